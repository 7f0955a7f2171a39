// What the render tests share: a mathreel-render daemon on a test's own spool
// and code jobs.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// mathreel-render with the test's Manim environment.
enum RenderDaemon {
    static func start(_ dir: TempDir, _ settings: [String: String] = [:]) throws -> StartedDaemon {
        try StartedDaemon.start("mathreel-render", dir, ["MATHREEL_PYTHON": manimPython].merging(settings) { $1 })
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
