// SessionStore: people and what they asked, in `<state>/sessions.sqlite` (WAL).
// Ingest opens a session per Telegram chat, WhatsApp number or web session and
// keeps the last 100 jobs as metadata; it also remembers which webhook updates
// were already taken. The janitor counts successes and expires idle sessions.
// A web session's id is never stored: its SHA-256 is the key.
import MathreelCore
import MathreelSQLite
import MathreelSystem
import Synchronization

/// Who asked: a Telegram chat, a WhatsApp number, or a web or API session (by its hash).
public struct Person: Sendable, Hashable, CustomStringConvertible {
    public let channel: Channel
    public let id: String
    public init(channel: Channel, id: String) { self.channel = channel; self.id = id }
    /// A web session from the id its holder sent.
    public static func web(session: String) -> Person { Person(channel: .web, id: SHA256.hex(Array(session.utf8))) }
    public var key: String { "\(channel.rawValue):\(id)" }
    public var description: String { channel == .web || channel == .api ? "\(channel.rawValue):\(id.prefix(12))" : key }
}

/// One job in a session's history.
public struct SessionJob: Sendable, Equatable {
    public let jobID: String
    public let createdAt: Double
    public let kind: String
    /// The problem, or the first line of the code, clipped.
    public let summary: String
    public init(jobID: String, createdAt: Double, kind: String, summary: String) {
        self.jobID = jobID; self.createdAt = createdAt; self.kind = kind; self.summary = summary
    }
}

public struct Session: Sendable, Equatable {
    public let key: String
    public let createdAt: Double
    public let lastSeen: Double
    public let submissions: Int
    public let successes: Int
}

public final class SessionStore: Sendable {
    public static let historyLimit = 100
    private let db: Mutex<Database>
    public let path: String
    /// Where a damaged database was set aside at open (sessions and their history start anew).
    public let setAside: String?

    public init(state: String) throws {
        path = state + "/sessions.sqlite"
        guard PlainDirectory.makeIfMissing(state) else {
            throw FileError("create \(state) (check MATHREEL_STATE and its permissions)")
        }
        // NORMAL is enough here: a lost last transaction only forgets a dedupe key whose
        // job is still found by its derived id, or a history line. Lookups are by key:
        // a 512 KB page cache (not the default 2 MB) keeps ingest's memory small under load.
        let (db, aside) = try Database.openState(path: path, schema: """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            PRAGMA cache_size=-512;
            CREATE TABLE IF NOT EXISTS sessions(
              key TEXT PRIMARY KEY, created_at REAL NOT NULL, last_seen REAL NOT NULL,
              submissions INTEGER NOT NULL DEFAULT 0, successes INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS history(
              key TEXT NOT NULL, job_id TEXT NOT NULL, created_at REAL NOT NULL, kind TEXT NOT NULL, summary TEXT NOT NULL,
              PRIMARY KEY(key, job_id));
            CREATE INDEX IF NOT EXISTS history_job ON history(job_id);
            CREATE TABLE IF NOT EXISTS taken(key TEXT PRIMARY KEY, job_id TEXT, at REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS counted(job_id TEXT PRIMARY KEY, at REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS forgotten(job_id TEXT PRIMARY KEY, at REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
            """)
        setAside = aside
        self.db = Mutex(db)
    }

    @discardableResult
    private func query(_ sql: String, _ values: [Database.Value] = []) throws -> [[String?]] {
        try db.withLock { try $0.query(sql, values) }
    }

    // MARK: Sessions

    /// Opens the session or extends it: every message counts as activity.
    public func touch(_ person: Person, now: Double = Date().timeIntervalSince1970) throws {
        try query("""
            INSERT INTO sessions(key, created_at, last_seen) VALUES(?, ?, ?)
            ON CONFLICT(key) DO UPDATE SET last_seen = excluded.last_seen
            """, [.text(person.key), .real(now), .real(now)])
    }

    /// Extends a session that exists; creates none (a refused request must leave no row).
    public func extend(_ person: Person, now: Double = Date().timeIntervalSince1970) throws {
        try query("UPDATE sessions SET last_seen = ? WHERE key = ?", [.real(now), .text(person.key)])
    }

    public func session(_ person: Person) throws -> Session? {
        try query("SELECT key, created_at, last_seen, submissions, successes FROM sessions WHERE key = ?", [.text(person.key)]).first.map {
            Session(key: $0[0] ?? "", createdAt: Double($0[1] ?? "") ?? 0, lastSeen: Double($0[2] ?? "") ?? 0,
                    submissions: Int($0[3] ?? "") ?? 0, successes: Int($0[4] ?? "") ?? 0)
        }
    }

    /// Adds a job to the person's history (keeping the last 100), counts the submission
    /// and extends the session; `key` (the update that made it) is taken in the same transaction.
    public func record(_ person: Person, job: SessionJob, key: String? = nil) throws {
        try db.withLock { db in
            try db.transaction {
                if let key { try SessionStore.take(key, jobID: job.jobID, at: job.createdAt, in: db) }
                _ = try db.query("INSERT OR IGNORE INTO history(key, job_id, created_at, kind, summary) VALUES(?,?,?,?,?)",
                                 [.text(person.key), .text(job.jobID), .real(job.createdAt), .text(job.kind), .text(job.summary)])
                _ = try db.query("""
                    INSERT INTO sessions(key, created_at, last_seen, submissions) VALUES(?, ?, ?, 1)
                    ON CONFLICT(key) DO UPDATE SET submissions = submissions + 1, last_seen = excluded.last_seen
                    """, [.text(person.key), .real(job.createdAt), .real(job.createdAt)])
                _ = try db.query("""
                    DELETE FROM history WHERE key = ?1 AND job_id NOT IN
                      (SELECT job_id FROM history WHERE key = ?1 ORDER BY created_at DESC LIMIT \(SessionStore.historyLimit))
                    """, [.text(person.key)])
            }
        }
    }

    /// Takes back a job recorded for a submission that was then not published.
    public func unrecord(_ person: Person, jobID: String) throws {
        try query("DELETE FROM history WHERE key = ? AND job_id = ?", [.text(person.key), .text(jobID)])
    }

    /// Newest first.
    public func history(_ person: Person, limit: Int = SessionStore.historyLimit) throws -> [SessionJob] {
        try query("SELECT job_id, created_at, kind, summary FROM history WHERE key = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
                  [.text(person.key), .int(Int64(limit))]).map {
            SessionJob(jobID: $0[0] ?? "", createdAt: Double($0[1] ?? "") ?? 0, kind: $0[2] ?? "", summary: $0[3] ?? "")
        }
    }

    public func owns(_ person: Person, jobID: String) throws -> Bool {
        try !query("SELECT 1 FROM history WHERE key = ? AND job_id = ?", [.text(person.key), .text(jobID)]).isEmpty
    }

    /// Deletes the session and its history; returns the job ids it held.
    public func forget(_ person: Person, now: Double = Date().timeIntervalSince1970) throws -> [String] {
        try db.withLock { db in
            try db.transaction {
                let ids = try db.query("SELECT job_id FROM history WHERE key = ?", [.text(person.key)]).compactMap { $0[0] }
                _ = try db.query("DELETE FROM history WHERE key = ?", [.text(person.key)])
                _ = try db.query("DELETE FROM sessions WHERE key = ?", [.text(person.key)])
                // Each job stays marked until it is cancelled or finished (`settled`), so one a
                // worker held at the time is cancelled by the janitor once it is let go.
                for id in ids { _ = try db.query("INSERT OR IGNORE INTO forgotten(job_id, at) VALUES(?, ?)", [.text(id), .real(now)]) }
                return ids
            }
        }
    }

    /// Jobs of forgotten people not yet cancelled or finished, oldest first.
    public func forgottenJobs() throws -> [String] {
        try query("SELECT job_id FROM forgotten ORDER BY at").compactMap { $0[0] }
    }

    /// A forgotten job is cancelled or finished: its mark goes.
    public func settled(_ jobID: String) throws {
        try query("DELETE FROM forgotten WHERE job_id = ?", [.text(jobID)])
    }

    /// Counts delivered jobs for the sessions that asked for them (the janitor, on `done/`).
    /// Each job counts once, however often the janitor sees it; returns how many were new.
    @discardableResult
    public func succeeded(jobIDs: [String], now: Double = Date().timeIntervalSince1970) throws -> Int {
        guard !jobIDs.isEmpty else { return 0 }
        return try db.withLock { db in
            try db.transaction {
                var new = 0
                for id in jobIDs {
                    _ = try db.query("INSERT OR IGNORE INTO counted(job_id, at) VALUES(?, ?)", [.text(id), .real(now)])
                    guard db.changes == 1 else { continue }
                    new += 1
                    _ = try db.query("UPDATE sessions SET successes = successes + 1 WHERE key IN (SELECT key FROM history WHERE job_id = ?)", [.text(id)])
                }
                return new
            }
        }
    }

    /// Deletes sessions idle since `before` with their history; returns how many.
    public func expire(idleSince before: Double) throws -> Int {
        try db.withLock { db in
            let n = Int(try db.query("SELECT count(*) FROM sessions WHERE last_seen < ?", [.real(before)]).first?[0] ?? "") ?? 0
            _ = try db.query("DELETE FROM history WHERE key IN (SELECT key FROM sessions WHERE last_seen < ?)", [.real(before)])
            _ = try db.query("DELETE FROM sessions WHERE last_seen < ?", [.real(before)])
            return n
        }
    }

    // MARK: Updates already taken

    /// The job an update made, "" for one that made none, nil when it is new.
    public func taken(_ key: String) throws -> String? {
        try query("SELECT coalesce(job_id, '') FROM taken WHERE key = ?", [.text(key)]).first?[0]
    }

    /// Remembers an update; false when it was already taken (a concurrent duplicate).
    @discardableResult
    public func take(_ key: String, jobID: String?, now: Double = Date().timeIntervalSince1970) throws -> Bool {
        try db.withLock { try SessionStore.take(key, jobID: jobID, at: now, in: $0) }
    }

    @discardableResult
    private static func take(_ key: String, jobID: String?, at: Double, in db: Database) throws -> Bool {
        _ = try db.query("INSERT OR IGNORE INTO taken(key, job_id, at) VALUES(?,?,?)", [.text(key), jobID.map(Database.Value.text) ?? .null, .real(at)])
        return db.changes == 1
    }

    /// Forgets update keys and counted deliveries older than `before` (platforms stop
    /// retrying after 7 days; done/ keeps a job 7 days).
    public func prune(before: Double) throws {
        try query("DELETE FROM taken WHERE at < ?", [.real(before)])
        try query("DELETE FROM counted WHERE at < ?", [.real(before)])
        try query("DELETE FROM forgotten WHERE at < ?", [.real(before)])
    }

    // MARK: This installation's secret

    /// Random bytes made once per state directory: job ids derived from update ids
    /// cannot be guessed from the outside.
    public func salt() throws -> String {
        if let s = try query("SELECT value FROM meta WHERE name = 'salt'").first?[0] { return s }
        try query("INSERT OR IGNORE INTO meta(name, value) VALUES('salt', ?)", [.text(Token.make().text)])
        return try query("SELECT value FROM meta WHERE name = 'salt'").first?[0] ?? ""
    }
}
