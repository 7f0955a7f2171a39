// A daemon of ours started on a test's own spool and state, its output appended
// to <dir>/<binary>.log, with settings on top of the test's environment.
import Foundation
import MathreelDaemon
#if canImport(Glibc)
import Glibc
#endif

public struct StartedDaemon: Sendable {
    public let child: ChildProcess
    public let logPath: String

    public static func start(_ binary: String, _ dir: TempDir, _ settings: [String: String] = [:]) throws -> StartedDaemon {
        let logPath = dir.path + "/\(binary).log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        defer { close(log) }
        var env = ProcessInfo.processInfo.environment
        env.merge(settings) { $1 }
        let child = try ChildProcess(path: Binaries.path(binary), arguments: ["--spool", dir.spool, "--state", dir.state],
                                     environment: env, stdout: log, stderr: log, newSession: true)
        return StartedDaemon(child: child, logPath: logPath)
    }

    /// The end of the daemon's log, for a failing expectation's message.
    public var log: String { String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(3000)) }

    /// SIGTERM, then how it ended (nil: not within 15 s).
    public func stop() async -> Termination? {
        child.signal(SIGTERM)
        return await child.wait(timeout: 15)
    }

    public func kill() { child.signalGroup(SIGKILL) }
}
