// What the render tests share: a mathreel-render daemon on a test's own spool
// (its log in <dir>/render.log, appended across restarts) and code jobs.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

struct RenderDaemon {
    let child: ChildProcess
    let logPath: String

    /// Starts the daemon with the test's Manim environment and `settings` on top of the test's environment.
    static func start(_ dir: TempDir, _ settings: [String: String] = [:]) throws -> RenderDaemon {
        let logPath = dir.path + "/render.log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        defer { close(log) }
        var env = ProcessInfo.processInfo.environment
        env["MATHREEL_PYTHON"] = manimPython
        env.merge(settings) { $1 }
        let child = try ChildProcess(path: Binaries.path("mathreel-render"), arguments: ["--spool", dir.spool, "--state", dir.state],
                                     environment: env, stdout: log, stderr: log, newSession: true)
        return RenderDaemon(child: child, logPath: logPath)
    }

    /// The end of the daemon's log, for a failing expectation's message.
    var log: String { String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(3000)) }

    /// SIGTERM, then how it ended (nil: not within 15 s).
    func stop() async -> Termination? {
        child.signal(SIGTERM)
        return await child.wait(timeout: 15)
    }
}

/// Publishes a code job with `body` as its scene into render/; returns its id.
@discardableResult
func submitCode(_ spool: Spool, _ body: String, options: JobOptions = JobOptions(), channel: Channel = .file) throws -> String {
    var job = Job(kind: .code, code: sceneCode(body), options: options, origin: JobOrigin(channel: channel))
    job.record(.queued, by: "test")
    try spool.submit(job, to: .render)
    return job.id
}
