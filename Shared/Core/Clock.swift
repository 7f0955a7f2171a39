// Timestamps as job files write them: UTC, ISO 8601, millisecond precision.
#if canImport(Glibc)
import Glibc
#endif

public enum Timestamp {
    public static func string(_ date: Date = Date()) -> String {
        // Clamped to years 0001 ... 9999: a date from outside must not trap the conversion.
        let seconds = date.timeIntervalSince1970.isNaN ? 0 : min(max(date.timeIntervalSince1970, -62_135_596_800), 253_402_300_799)
        var t = time_t(seconds.rounded(.down))
        var tm = tm()
        gmtime_r(&t, &tm)
        let ms = Int((seconds - Double(t)) * 1000) % 1000
        func p(_ v: Int32, _ w: Int) -> String {
            let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(p(tm.tm_year + 1900, 4))-\(p(tm.tm_mon + 1, 2))-\(p(tm.tm_mday, 2))T\(p(tm.tm_hour, 2)):\(p(tm.tm_min, 2)):\(p(tm.tm_sec, 2)).\(p(Int32(ms), 3))Z"
    }

    /// Reads "2026-11-21T17:00:00Z", with or without fractional seconds or an offset.
    public static func parse(_ s: String) -> Date? {
        if let d = try? Date(s, strategy: .iso8601) { return d }
        let frac = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return try? frac.parse(s)
    }
}

extension Duration {
    /// As a plain number of seconds (for timings and figures).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

public enum JobID {
    public static func make() -> String { UUID().uuidString.lowercased() }
    /// A job id is a UUID in its canonical text form.
    public static func isValid(_ s: String) -> Bool {
        s.utf8.count == 36 && UUID(uuidString: s) != nil
    }
    /// The same id for the same key every time (RFC 9562 version 8 from SHA-256): a
    /// webhook update retried makes one job, found by its id wherever it is.
    public static func derived(from key: String) -> String {
        var b = SHA256.digest(Array(key.utf8)).prefix(16).map { $0 }
        b[6] = (b[6] & 0x0f) | 0x80
        b[8] = (b[8] & 0x3f) | 0x80
        let h = SHA256.hexString(b)
        let parts = [h.prefix(8), h.dropFirst(8).prefix(4), h.dropFirst(12).prefix(4), h.dropFirst(16).prefix(4), h.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}
