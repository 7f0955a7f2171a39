// JSON-lines logging on stderr: one object per line with time, level, daemon and
// message, plus metadata (job_id is the correlation id that ties a job's lines
// together). Each line is one write(2), so lines from threads never interleave.
import Logging
import MathreelCore
#if canImport(Glibc)
import Glibc
#endif

public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let fd: Int32

    public init(label: String, level: Logger.Level = .info, fd: Int32 = 2) {
        self.label = label; self.logLevel = level; self.fd = fd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var o: JSONObject = [
            "ts": .string(Timestamp.string()),
            "level": .string(event.level.rawValue),
            "daemon": .string(label),
            "msg": .string(event.message.description),
        ]
        for (k, v) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { o[k] = Self.json(v) }
        let line = JSONValue.object(o).serialized(pretty: false)
        line.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { if errno == EINTR { continue } else { break } }
                off += n
            }
        }
    }

    static func json(_ v: Logger.MetadataValue) -> JSONValue {
        switch v {
        case .string(let s): .string(s)
        case .stringConvertible(let c): .string(c.description)
        case .array(let a): .array(a.map(json))
        case .dictionary(let d): .object(d.mapValues(json))
        }
    }
}

public enum Logs {
    /// Installs JSON-lines logging once per process; the level comes from MATHREEL_LOG_LEVEL.
    public static func bootstrap(daemon: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let level = level(environment)
        LoggingSystem.bootstrap { _ in JSONLogHandler(label: daemon, level: level) }
    }

    /// The one reading of MATHREEL_LOG_LEVEL (Config refuses a value not named here); info when unset.
    public static func level(_ environment: [String: String]) -> Logger.Level {
        environment["MATHREEL_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    }
}
