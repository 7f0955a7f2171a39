// Database: a small SQLite connection over the C API (libsqlite3), for the state
// directory's databases: the Manim docs index, delivery's links and notices, sessions. One
// connection per user, used from one task at a time; statements bind text and
// integers and read rows as strings.
import CSQLite
import MathreelCore
#if canImport(Glibc)
import Glibc
#endif

public struct SQLiteError: Error, CustomStringConvertible {
    public let description: String
    /// SQLite's primary result code, when it said one.
    public var code: Int32 = 0
    /// The file is not a database, or its pages are damaged.
    public var isCorrupt: Bool { code == SQLITE_CORRUPT || code == SQLITE_NOTADB }
}

public final class Database: @unchecked Sendable {
    let db: OpaquePointer
    /// Prepared statements by their text: the same few run for every webhook, and
    /// parsing them again each time was a visible share of ingest's CPU.
    private var statements: [String: OpaquePointer] = [:]
    static let maxStatements = 64

    /// Opens `path`; `readOnly` never creates or changes it.
    public init(path: String, readOnly: Bool = false) throws {
        var handle: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let handle { sqlite3_close(handle) }
            throw SQLiteError(description: "cannot open \(path): \(message)")
        }
        db = handle
        sqlite3_busy_timeout(db, 5000)
    }

    deinit {
        for s in statements.values { sqlite3_finalize(s) }
        sqlite3_close(db)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(db)) }

    public enum Value: Sendable { case text(String), int(Int64), real(Double), null }

    /// Runs `sql` (several statements allowed) without results.
    public func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &error)
        guard rc == SQLITE_OK else {
            defer { sqlite3_free(error) }
            throw SQLiteError(description: error.map { String(cString: $0) } ?? "error", code: rc & 0xff)
        }
    }

    /// Opens a state database and applies its schema. A file that is not a database or
    /// whose pages are damaged is set aside (`<path>.corrupt-<epoch>`, with its -wal and
    /// -shm) and made anew, so a daemon never restart-loops on it; `setAside` names it.
    public static func openState(path: String, schema: String) throws -> (db: Database, setAside: String?) {
        func attempt() throws -> Database {
            let db = try Database(path: path)
            try db.execute(schema)
            let check = try db.query("PRAGMA quick_check(1)").first?.first ?? nil
            guard check == "ok" else { throw SQLiteError(description: "quick_check: \(check ?? "no answer")", code: SQLITE_CORRUPT) }
            return db
        }
        do {
            // Daemons start together (systemd starts the target's units at once): two applying the
            // schema of a new file can find it locked, SQLite refusing at once rather than deadlock.
            var tries = 0
            while true {
                do { return (try attempt(), nil) } catch let e as SQLiteError where e.code == SQLITE_BUSY || e.code == SQLITE_LOCKED {
                    tries += 1
                    if tries >= 100 { throw e }
                    usleep(useconds_t(20_000 + Int.random(in: 0...80_000)))
                }
            }
        } catch let e as SQLiteError where e.isCorrupt {
            let aside = "\(path).corrupt-\(Int(Date().timeIntervalSince1970))"
            guard rename(path, aside) == 0 else { throw SQLiteError(description: "\(path) is damaged and could not be set aside: \(e)", code: e.code) }
            for suffix in ["-wal", "-shm"] { _ = rename(path + suffix, aside + suffix) }
            return (try attempt(), aside)
        }
    }

    /// Runs `body` in one write transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The rows of one statement, each column as text (nil for NULL).
    public func query(_ sql: String, _ values: [Value] = []) throws -> [[String?]] {
        var statement: OpaquePointer? = statements[sql]
        var cached = statement != nil
        if !cached {
            let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
            guard rc == SQLITE_OK, statement != nil else {
                throw SQLiteError(description: String(cString: sqlite3_errmsg(db)), code: rc & 0xff)
            }
            cached = statements.count < Database.maxStatements
            if cached { statements[sql] = statement }
        }
        defer {
            // A reset statement holds no lock; one that is not kept goes.
            if cached { sqlite3_reset(statement); sqlite3_clear_bindings(statement) } else { sqlite3_finalize(statement) }
        }
        // SQLITE_TRANSIENT: SQLite copies the bound text.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, v) in values.enumerated() {
            switch v {
            case .text(let s): sqlite3_bind_text(statement, Int32(i + 1), s, -1, transient)
            case .int(let n): sqlite3_bind_int64(statement, Int32(i + 1), n)
            case .real(let x): sqlite3_bind_double(statement, Int32(i + 1), x)
            case .null: sqlite3_bind_null(statement, Int32(i + 1))
            }
        }
        var rows: [[String?]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw SQLiteError(description: String(cString: sqlite3_errmsg(db)), code: rc & 0xff) }
            rows.append((0..<sqlite3_column_count(statement)).map { c in
                sqlite3_column_text(statement, c).map { String(cString: $0) }
            })
        }
        return rows
    }
}
