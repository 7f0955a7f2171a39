// What the sections share to load and watch a daemon: wrk (Debian's HTTP load
// generator) and a process's memory as /proc reports it.
import Foundation
import MathreelDaemon

/// One wrk run's report, line by line.
struct WrkReport {
    let lines: [String]

    /// Runs /usr/bin/wrk with `arguments`; nil when wrk is not installed.
    static func run(_ arguments: [String], seconds: Double) async throws -> WrkReport? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") else { return nil }
        let out = try ScratchFile()
        let child = try ChildProcess(path: "/usr/bin/wrk", arguments: arguments,
                                     environment: ProcessInfo.processInfo.environment, stdout: out.fd, stderr: out.fd, newSession: true)
        _ = await child.wait(orKillAfter: seconds + 60)
        let text = String(decoding: out.read(limit: 1 << 20), as: UTF8.self)
        return WrkReport(lines: text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
    }

    /// The line starting with `prefix`, e.g. "Non-2xx or 3xx responses: 12".
    func line(_ prefix: String) -> String? { lines.first { $0.hasPrefix(prefix) } }
    /// The last word of that line.
    func value(_ prefix: String) -> String? { line(prefix).flatMap { $0.split(separator: " ").last.map(String.init) } }

    var requestsPerSecond: Double? { value("Requests/sec:").flatMap(Double.init) }

    /// A percentile from `--latency` ("99%"), in milliseconds; wrk writes "850.00us", "1.23ms", "1.02s".
    func latency(_ percent: String) -> Double? {
        guard let s = value(percent) else { return nil }
        if s.hasSuffix("us"), let v = Double(s.dropLast(2)) { return v / 1000 }
        if s.hasSuffix("ms"), let v = Double(s.dropLast(2)) { return v }
        if s.hasSuffix("s"), let v = Double(s.dropLast(1)) { return v * 1000 }
        return nil
    }
}

/// A field of /proc/<pid>/status in kB: "VmRSS" (resident now), "VmHWM" (its peak).
func memoryKB(_ pid: pid_t, _ field: String) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") }
    return line.flatMap { Int($0.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]) }
}
