// Links: the one-time links and the notices owed to people, in
// `<state>/delivery.sqlite` (WAL). A link's token is never stored: its SHA-256 is
// the only key, so a copy of the state cannot be turned back into working links.
import MathreelCore
import MathreelSQLite
import Synchronization

/// One link as the state knows it.
public struct Link: Sendable, Equatable {
    public var jobID: String
    /// File names under `<state>/videos/`.
    public var video: String
    public var captions: String?
    public var poster: String?
    public var contentType: String
    public var bytes: Int64
    public var problem: String
    /// The answer codegen verified, shown beside the player as the video's text alternative.
    public var answer: String?
    public var expiresAt: Double
    public var firstByteAt: Double? = nil
    /// Why every route of the token answers 410: `watched` or `expired`.
    public var gone: String? = nil
}

/// Why a notice is owed.
public enum NoticeKind: String, Sendable { case ready, failed }

/// A notice waiting to be sent.
public struct PendingNotice: Sendable, Equatable {
    public let key: String
    public let jobID: String
    public let kind: NoticeKind
    public let tries: Int
}

/// The state's database; every call holds the one connection's lock.
public final class LinkStore: Sendable {
    private let db: Mutex<Database>
    public let path: String
    /// Where a damaged database was set aside at open (its links are lost: their jobs expire as unused).
    public let setAside: String?

    public init(state: String) throws {
        path = state + "/delivery.sqlite"
        let (db, aside) = try Database.openState(path: path, schema: """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=FULL;
            CREATE TABLE IF NOT EXISTS links(
              token_sha256 TEXT PRIMARY KEY,
              job_id TEXT NOT NULL UNIQUE,
              video TEXT NOT NULL, captions TEXT, poster TEXT,
              content_type TEXT NOT NULL, bytes INTEGER NOT NULL, problem TEXT NOT NULL, answer TEXT,
              created_at REAL NOT NULL, expires_at REAL NOT NULL,
              first_byte_at REAL, gone TEXT, gone_at REAL);
            CREATE TABLE IF NOT EXISTS notices(
              key TEXT PRIMARY KEY, job_id TEXT NOT NULL, kind TEXT NOT NULL,
              state TEXT NOT NULL, tries INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL,
              last_error TEXT, created_at REAL NOT NULL, sent_at REAL);
            CREATE INDEX IF NOT EXISTS notices_due ON notices(state, next_at);
            """)
        setAside = aside
        self.db = Mutex(db)
    }

    private func query(_ sql: String, _ values: [Database.Value] = []) throws -> [[String?]] {
        try db.withLock { try $0.query(sql, values) }
    }

    // MARK: Links

    /// Issues a new token for the job, replacing any earlier one (an earlier run of the
    /// step that crashed before its hand-on: that token never reached anyone).
    public func issue(_ link: Link, now: Double = Date().timeIntervalSince1970) throws -> Token {
        let token = Token.make()
        _ = try query("DELETE FROM links WHERE job_id = ?", [.text(link.jobID)])
        _ = try query("""
            INSERT INTO links(token_sha256, job_id, video, captions, poster, content_type, bytes, problem, answer, created_at, expires_at)
            VALUES(?,?,?,?,?,?,?,?,?,?,?)
            """, [.text(token.hash), .text(link.jobID), .text(link.video), link.captions.map(Database.Value.text) ?? .null,
                  link.poster.map(Database.Value.text) ?? .null, .text(link.contentType), .int(link.bytes), .text(link.problem),
                  link.answer.map(Database.Value.text) ?? .null, .real(now), .real(link.expiresAt)])
        return token
    }

    public func link(_ token: Token) throws -> Link? {
        try query("""
            SELECT job_id, video, captions, poster, content_type, bytes, problem, answer, expires_at, first_byte_at, gone
            FROM links WHERE token_sha256 = ?
            """, [.text(token.hash)]).first.map { r in
            Link(jobID: r[0] ?? "", video: r[1] ?? "", captions: r[2], poster: r[3], contentType: r[4] ?? "application/octet-stream",
                 bytes: Int64(r[5] ?? "") ?? 0, problem: r[6] ?? "", answer: r[7], expiresAt: Double(r[8] ?? "") ?? 0,
                 firstByteAt: r[9].flatMap(Double.init), gone: r[10])
        }
    }

    /// Records the first byte served; a later one leaves the first in place.
    public func firstByte(_ token: Token, now: Double = Date().timeIntervalSince1970) throws {
        _ = try query("UPDATE links SET first_byte_at = ? WHERE token_sha256 = ? AND first_byte_at IS NULL", [.real(now), .text(token.hash)])
    }

    /// Marks a job's link gone; false if it already was (or there is none).
    @discardableResult
    public func markGone(jobID: String, reason: String, now: Double = Date().timeIntervalSince1970) throws -> Bool {
        try query("UPDATE links SET gone = ?, gone_at = ? WHERE job_id = ? AND gone IS NULL RETURNING job_id",
                  [.text(reason), .real(now), .text(jobID)]).count > 0
    }

    /// Live links whose first byte was served before `cutoff` (the access grace is over).
    public func graceOver(before cutoff: Double) throws -> [String] {
        try query("SELECT job_id FROM links WHERE gone IS NULL AND first_byte_at IS NOT NULL AND first_byte_at <= ?", [.real(cutoff)])
            .compactMap { $0[0] }
    }

    /// The earliest first byte among live links, for the grace timer.
    public func earliestFirstByte() throws -> Double? {
        try query("SELECT MIN(first_byte_at) FROM links WHERE gone IS NULL").first?[0].flatMap(Double.init)
    }

    // MARK: Notices

    /// Owes a notice once per key; false when it was already owed (or sent).
    @discardableResult
    public func owe(key: String, jobID: String, kind: NoticeKind, now: Double = Date().timeIntervalSince1970) throws -> Bool {
        try query("""
            INSERT INTO notices(key, job_id, kind, state, next_at, created_at) VALUES(?,?,?,'pending',?,?)
            ON CONFLICT(key) DO NOTHING RETURNING key
            """, [.text(key), .text(jobID), .text(kind.rawValue), .real(now), .real(now)]).count > 0
    }

    /// Pending notices due by `now`, oldest first.
    public func due(now: Double = Date().timeIntervalSince1970, limit: Int = 32) throws -> [PendingNotice] {
        try query("SELECT key, job_id, kind, tries FROM notices WHERE state = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?",
                  [.real(now), .int(Int64(limit))]).compactMap { r in
            guard let key = r[0], let id = r[1], let kind = r[2].flatMap(NoticeKind.init) else { return nil }
            return PendingNotice(key: key, jobID: id, kind: kind, tries: Int(r[3] ?? "") ?? 0)
        }
    }

    /// When the next pending notice falls due.
    public func nextDue() throws -> Double? {
        try query("SELECT MIN(next_at) FROM notices WHERE state = 'pending'").first?[0].flatMap(Double.init)
    }

    /// Ends a notice: `sent`, `skipped` (nothing to send on that channel) or `given_up`.
    public func settle(_ key: String, as state: String, error: String? = nil, now: Double = Date().timeIntervalSince1970) throws {
        _ = try query("UPDATE notices SET state = ?, sent_at = ?, last_error = ?, tries = tries + 1 WHERE key = ?",
                      [.text(state), .real(now), error.map(Database.Value.text) ?? .null, .text(key)])
    }

    /// Tries again at `at`.
    public func postpone(_ key: String, to at: Double, error: String) throws {
        _ = try query("UPDATE notices SET tries = tries + 1, next_at = ?, last_error = ? WHERE key = ?",
                      [.real(at), .text(error), .text(key)])
    }

    /// A notice's state and tries, for tests and `mathreel status`.
    public func notice(_ key: String) throws -> (state: String, tries: Int, error: String?)? {
        try query("SELECT state, tries, last_error FROM notices WHERE key = ?", [.text(key)]).first.map {
            ($0[0] ?? "", Int($0[1] ?? "") ?? 0, $0[2])
        }
    }

    // MARK: Housekeeping

    /// Forgets links gone and notices settled longer ago than `age` seconds.
    public func prune(olderThan age: Double, now: Double = Date().timeIntervalSince1970) throws {
        _ = try query("DELETE FROM links WHERE gone IS NOT NULL AND gone_at < ?", [.real(now - age)])
        _ = try query("DELETE FROM links WHERE gone IS NULL AND expires_at < ?", [.real(now - age)])
        _ = try query("DELETE FROM notices WHERE state <> 'pending' AND sent_at < ?", [.real(now - age)])
    }
}
