// A lesson's figures for `make bench`: four scenes as one lesson through render/
// beside the same four by plain `manim -ql` one after another; an edit of one of
// the four (the other three found in the render cache); ten lessons at once, with
// the machine's peak memory while they render.
import Foundation
import MathreelCore
import MathreelSpool
import Synchronization

let lessonBodies = benchScenes.map(\.body) + ["t = Text(\"The answer\")\nself.play(Write(t))\nself.play(Indicate(t))"]

/// A lesson's four scene files, as codegen leaves them; `changed` makes the second one different.
func lessonFiles(salt: String, changed: Bool = false) -> [String] {
    lessonBodies.enumerated().map { i, body in benchCode(changed && i == 1 ? body + "\nself.wait(0.5)" : body, salt: "\(salt) scene \(i + 1)") }
}

extension RenderDaemonBench {
    /// Publishes lessons (each its scene files and a plan, as codegen hands one on) and waits for them all in deliver/.
    func renderLessons(_ lessons: [[String]]) async throws -> (Double, [Job]) {
        var ids: [String] = []
        let start = ContinuousClock.now
        for files in lessons {
            var job = Job(kind: .problem, problem: "A lesson for the bench", options: JobOptions(maxDurationS: 180), origin: JobOrigin(channel: .file))
            let dir = try spool.artifacts(job.id)
            var scenes: [PlannedScene] = []
            for (i, code) in files.enumerated() {
                try dir.write(Array(code.utf8), as: Lesson.codeFile(i + 1))
                scenes.append(PlannedScene(n: i + 1, title: "Part \(i + 1)", code: "artifacts/\(job.id)/\(Lesson.codeFile(i + 1))", sceneClass: "Bench"))
            }
            job.plan = LessonPlan(scenes: scenes)
            job.codegen = ["provider": .string("offline")]
            job.record(.queued, by: "bench")
            try spool.submit(job, to: .render)
            ids.append(job.id)
        }
        return try await wait(for: ids, since: start)
    }
}

/// Memory in use on the machine now (MemTotal - MemAvailable), in kB.
func machineMemoryKB() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
    func field(_ name: String) -> Int? {
        text.split(separator: "\n").first { $0.hasPrefix(name + ":") }.flatMap { Int($0.split(separator: " ")[1]) }
    }
    guard let total = field("MemTotal"), let available = field("MemAvailable") else { return nil }
    return total - available
}

func runLessonBench(binDir: String, python: String) async throws {
    print("Lessons: four scenes as one lesson (each rendered alone, joined frame for frame) vs. plain `manim -ql` of each in turn")
    guard FileManager.default.isExecutableFile(atPath: binDir + "/mathreel-render") else { print("  mathreel-render: not built"); return }
    let daemon = try await RenderDaemonBench.start(binDir: binDir, python: python)
    _ = try await daemon.render([benchCode(benchScenes[2].body, salt: "warm-up")])
    try await Task.sleep(for: .seconds(3))

    var plain = 0.0
    for body in lessonBodies { plain += try await plainManim(python: python, code: benchCode(body, salt: JobID.make())) }
    let salt = JobID.make()
    let (lesson, made) = try await daemon.renderLessons([lessonFiles(salt: salt)])
    let scenes = made.first?.plan?.scenes.count ?? 0
    print(String(format: "  4 scenes: plain one after another %.2f s   mathreel lesson %.2f s (%d scenes)   ratio %.2f", plain, lesson, scenes, lesson / plain)
          + "   target <= 0.6: " + (scenes == 4 && lesson / plain <= 0.6 ? "met" : "MISSED"))

    // An edit: the same lesson with its second scene changed; scenes 1, 3 and 4 are the cache's.
    try await Task.sleep(for: .seconds(3))
    let (edit, edited) = try await daemon.renderLessons([lessonFiles(salt: salt, changed: true)])
    let hits = edited.first?.plan?.scenes.filter(\.cacheHit).count ?? 0
    print(String(format: "  an edit of one scene: %.2f s (%d of 4 scenes from the cache)   %.2f of the first render", edit, hits, edit / lesson)
          + "   target <= 0.35: " + (hits == 3 && edit / lesson <= 0.35 ? "met" : "MISSED"))

    // Ten lessons at once, as the Workers design's load test sends them.
    try await Task.sleep(for: .seconds(4))
    let before = machineMemoryKB() ?? 0
    let peak = Mutex(before)
    let sampler = Task {
        while !Task.isCancelled {
            if let now = machineMemoryKB() { peak.withLock { $0 = max($0, now) } }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
    let (ten, tenJobs) = try await daemon.renderLessons((0..<10).map { _ in lessonFiles(salt: JobID.make()) })
    sampler.cancel()
    let largest = tenJobs.compactMap { $0.render?.json["bytes"]?.intValue }.max() ?? 0
    let rose = Double(peak.withLock { $0 } - before) / 1024
    print(String(format: "  10 lessons at once: all %d arrived after %.1f s; largest %.1f MB; the machine's memory rose by %.0f MB at its peak", tenJobs.count, ten,
                 Double(largest) / 1_048_576, rose)
          + "   target: all arrive, each < 50 MB: " + (tenJobs.count == 10 && largest < 50 << 20 ? "met" : "MISSED"))
    await daemon.stop()
}
