// The renderer's figures for `make bench`: the same short scenes rendered by
// plain `manim -ql` and through render/ (static check, warm sandbox, checks,
// hand-on) until the job stands in deliver/; a cache hit; two renders at once.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

let benchScenes: [(name: String, body: String)] = [
    ("MathTex", "eq = MathTex(r\"x^2 - 5x + 6 = 0\")\nself.play(Write(eq))\nself.play(eq.animate.shift(UP))"),
    ("Axes", "ax = Axes(x_range=[-1, 5], y_range=[-1, 7])\nself.play(Create(ax))\nself.play(Create(ax.plot(lambda x: x**2 - 5*x + 6, x_range=[0, 5])))"),
    ("Shapes", "c = Circle()\ns = Square()\nself.play(Create(c))\nself.play(Transform(c, s))\nself.play(FadeOut(c))"),
]

func benchCode(_ body: String, salt: String = "") -> String {
    "from manim import *\n\(salt.isEmpty ? "" : "# \(salt)\n")\nclass Bench(Scene):\n    def construct(self):\n"
        + body.split(separator: "\n").map { "        " + $0 }.joined(separator: "\n") + "\n"
}

func seconds(_ start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start).seconds }

/// `python -m manim -ql` on the scene, as a person would run it; wall seconds.
func plainManim(python: String, code: String) async throws -> Double {
    let dir = tempDirectory("manim")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try code.write(toFile: dir + "/scene.py", atomically: false, encoding: .utf8)
    let devnull = open("/dev/null", O_WRONLY)
    defer { close(devnull) }
    let start = ContinuousClock.now
    let child = try ChildProcess(path: "/bin/sh", arguments: ["-c", "cd '\(dir)' && exec '\(python)' -m manim -ql --disable_caching scene.py Bench"],
                                 environment: ProcessInfo.processInfo.environment, stdout: devnull, stderr: devnull, newSession: true)
    let end = await child.wait()
    guard end.succeeded else { throw ChildError(description: "plain manim failed: \(end)") }
    return seconds(start)
}

struct RenderDaemonBench {
    let spool: Spool
    let child: ChildProcess
    let root: String

    static func start(binDir: String, python: String) async throws -> RenderDaemonBench {
        let root = tempDirectory("render")
        let spool = try Spool(root: root + "/spool")
        var env = ProcessInfo.processInfo.environment
        env["MATHREEL_PYTHON"] = python
        env["MATHREEL_LOG_LEVEL"] = "error"
        let devnull = open("/dev/null", O_WRONLY)
        defer { close(devnull) }
        let child = try ChildProcess(path: binDir + "/mathreel-render", arguments: ["--spool", root + "/spool", "--state", root + "/state"],
                                     environment: env, stdout: devnull, stderr: devnull, newSession: true)
        // Let the warm pool finish its imports, as on a server that has been up a while.
        try await Task.sleep(for: .seconds(4))
        return RenderDaemonBench(spool: spool, child: child, root: root)
    }

    /// Publishes code jobs into render/ and waits until all stand in deliver/; wall seconds.
    func render(_ codes: [String]) async throws -> (Double, [Job]) {
        var ids: [String] = []
        let start = ContinuousClock.now
        for code in codes {
            var job = Job(kind: .code, code: code, origin: JobOrigin(channel: .file))
            job.record(.queued, by: "bench")
            try spool.submit(job, to: .render)
            ids.append(job.id)
        }
        return try await wait(for: ids, since: start)
    }

    /// Waits until every job of `ids` stands in deliver/ (a failure ends the bench); wall seconds since `start`.
    func wait(for ids: [String], since start: ContinuousClock.Instant) async throws -> (Double, [Job]) {
        while true {
            let arrived = ids.filter { spool.info(.deliver, FileName($0 + ".json")) != nil }
            if arrived.count == ids.count { break }
            if ids.contains(where: { spool.info(.failed, FileName($0 + ".json")) != nil }) {
                throw ChildError(description: "a bench render failed")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        let took = seconds(start)
        let jobs = ids.compactMap { spool.peek(.deliver, FileName($0 + ".json")).flatMap { try? Job.decode($0) } }
        return (took, jobs)
    }

    func stop() async {
        child.signal(SIGTERM)
        _ = await child.wait(timeout: 15)
        try? FileManager.default.removeItem(atPath: root)
    }
}

func runRenderBench(binDir: String, python: String) async throws {
    print("Renderer: plain `manim -ql` vs. through render/ until deliver/ (warm pool, sandbox, checks, hand-on)")
    guard FileManager.default.isExecutableFile(atPath: binDir + "/mathreel-render") else { print("  mathreel-render: not built"); return }
    let daemon = try await RenderDaemonBench.start(binDir: binDir, python: python)
    // A server that has been up a while: one job has run (the check's names are cached).
    _ = try await daemon.render([benchCode(benchScenes[2].body, salt: "warm-up")])
    try await Task.sleep(for: .seconds(3))
    var ratios: [Double] = []
    var single: [Double] = []
    for (name, body) in benchScenes {
        let salt = JobID.make()
        let plain = try await plainManim(python: python, code: benchCode(body, salt: salt))
        let (through, done) = try await daemon.render([benchCode(body, salt: salt + "-2")])
        let t = done.first?.render?.json["timings"]?.objectValue ?? [:]
        let phases = ["check_s", "sandbox_s", "post_s", "store_s"].map { String(format: "%.2f", t[$0]?.doubleValue ?? 0) }.joined(separator: " / ")
        try await Task.sleep(for: .seconds(2)) // the pool refills between jobs, as it does between people
        ratios.append(through / plain)
        single.append(through)
        print(String(format: "  %-8@ plain %.2f s   mathreel %.2f s   ratio %.2f", name as NSString, plain, through, through / plain)
              + "   (check / sandbox / post / store: \(phases) s)")
    }
    let median = ratios.sorted()[ratios.count / 2]
    print(String(format: "  median ratio %.2f", median) + "   target <= 0.7: " + (median <= 0.7 ? "met" : "MISSED"))

    let (hit, hitJobs) = try await daemon.render([benchCode(benchScenes[0].body, salt: "cached")])
    _ = hit
    try await Task.sleep(for: .seconds(2))
    let (again, againJobs) = try await daemon.render([benchCode(benchScenes[0].body, salt: "cached")])
    let isHit = againJobs.first?.render?.json["cache_hit"] == .bool(true) && hitJobs.first?.render?.json["cache_hit"] == .bool(false)
    print(String(format: "  cache hit: %.1f ms (served from cache: %@)", again * 1000, isHit ? "yes" : "NO")
          + "   target < 50 ms: " + (isHit && again < 0.05 ? "met" : "MISSED"))

    try await Task.sleep(for: .seconds(3))
    let pair = [benchCode(benchScenes[2].body, salt: JobID.make()), benchCode(benchScenes[2].body, salt: JobID.make())]
    let (one, _) = try await daemon.render([pair[0]])
    try await Task.sleep(for: .seconds(4))
    let (two, _) = try await daemon.render([pair[1], benchCode(benchScenes[2].body, salt: JobID.make())])
    print(String(format: "  two at once: %.2f s vs one %.2f s = %.2fx", two, one, two / one)
          + "   target <= 1.3x: " + (two / one <= 1.3 ? "met" : "MISSED"))
    await daemon.stop()
}
