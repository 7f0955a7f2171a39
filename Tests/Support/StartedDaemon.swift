// The one way a test starts a daemon of ours (or the test worker): on the test's
// own spool and state, its output appended to a log file in the test's directory,
// with the test's environment minus everything that configures a daemon
// (MATHREEL_*, systemd's NOTIFY_SOCKET and WATCHDOG_*), then the test's settings.
// So no daemon under test inherits the runner's own settings or systemd socket.
import Foundation
import MathreelDaemon
#if canImport(Glibc)
import Glibc
#endif

public struct StartedDaemon: Sendable {
    public let child: ChildProcess
    public let logPath: String

    /// What a daemon under test gets: the test's environment without daemon settings, plus `settings`.
    public static func environment(_ settings: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("MATHREEL_") || ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"].contains(key) {
            env[key] = nil
        }
        return env.merging(settings) { $1 }
    }

    /// Starts `binary` (a built program's name, or a path) with `--spool` and `--state` of `dir` and `arguments` after them;
    /// `wrapper` runs before it (setpriv, to start it as another user); the log is
    /// `<dir>/<log>` (default `<binary>.log`), appended to.
    public static func start(_ binary: String, _ dir: TempDir, _ settings: [String: String] = [:], arguments: [String] = [],
                             wrapper: [String] = [], log: String? = nil) throws -> StartedDaemon {
        let logPath = dir.path + "/" + (log ?? "\(binary.split(separator: "/").last ?? "daemon").log")
        let fd = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TestFailure("cannot open \(logPath)") }
        defer { close(fd) }
        let program = wrapper + [binary.contains("/") ? binary : Binaries.path(binary), "--spool", dir.spool, "--state", dir.state] + arguments
        let child = try ChildProcess(path: program[0], arguments: Array(program.dropFirst()), environment: environment(settings),
                                     stdout: fd, stderr: fd, newSession: true)
        return StartedDaemon(child: child, logPath: logPath)
    }

    /// The whole log.
    public var fullLog: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The end of the daemon's log, for a failing expectation's message.
    public var log: String { String(fullLog.suffix(3000)) }

    /// How many times the log says "ready" (once per start of a daemon writing to it).
    public var readyLines: Int { fullLog.components(separatedBy: #""msg":"ready""#).count - 1 }

    /// Waits until the log says "ready" more than `before` times; false if it stops or takes 20 s.
    public func waitReady(after before: Int = 0, timeout: Double = 20) async -> Bool {
        await waitUntil(timeout: timeout) { readyLines > before || child.termination != nil } && child.termination == nil
    }

    /// SIGTERM, then how it ended (nil: not within `timeout`).
    public func stop(timeout: Double = 15) async -> Termination? {
        child.signal(SIGTERM)
        return await child.wait(timeout: timeout)
    }

    public func kill() { child.signalGroup(SIGKILL) }
}
