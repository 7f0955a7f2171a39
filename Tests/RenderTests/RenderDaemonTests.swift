// The render daemon end to end: code jobs published into render/ come out in
// deliver/ with a probed video, or in failed/ with a message a person can act on.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite struct RenderDaemonTests {
    @Test(.timeLimit(.minutes(3)))
    func codeJobsAreRenderedOrFailWithAReason() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        func submit(_ body: String, max: Int = 30, format: VideoFormat = .mp4) throws -> String {
            try submitCode(spool, body, options: JobOptions(quality: .low, format: format, maxDurationS: max))
        }
        let good = try submit("self.play(Create(Axes().plot(lambda x: x**2 - 5*x + 6, x_range=[0, 5])))\nself.play(ShowCreation(Circle()))")
        let webm = try submit("self.add(Text(\"webm\"))\nself.wait(0.5)", format: .webm)
        let rejected = try submit("import os\nos.system('id')")
        let long = try submit("self.add(Square())\nself.wait(3)", max: 1)
        let broken = try submit("self.play(Write(Circle()))\nx = 1 / 0")
        // Code a model wrote: a render error goes back to codegen/ while repairs remain.
        func model(_ body: String, repairs: Int) throws -> String {
            var job = Job(kind: .problem, problem: "Plot the parabola y = x^2", code: sceneCode(body), origin: JobOrigin(channel: .file))
            job.codegen = ["provider": .string("groq"), "repairs": .int(Int64(repairs))]
            job.record(.rendering, by: "test")
            try spool.submit(job, to: .render)
            return job.id
        }
        let repairable = try model("self.play(Create(Axes()))\nself.play(Write(undefined_thing))", repairs: 0)
        let exhausted = try model("self.play(Write(undefined_thing))", repairs: 2)

        let daemon = try RenderDaemon.start(dir)
        let done = await waitUntil(timeout: 150, interval: 0.2) {
            count(spool, .deliver) + count(spool, .failed) + count(spool, .codegen) == 7
        }
        #expect(await daemon.stop() == .exited(0))
        #expect(done, "\(daemon.log)")

        let delivered = Dictionary(uniqueKeysWithValues: jobs(in: spool, .deliver).map { ($0.id, $0) })
        let failed = Dictionary(uniqueKeysWithValues: jobs(in: spool, .failed).map { ($0.id, $0) })
        let g = try #require(delivered[good])
        #expect(g.render?.json["video"] == .string("artifacts/\(good)/video.mp4"))
        #expect(g.render?.json["height"]?.intValue == 480)
        #expect(FileManager.default.fileExists(atPath: dir.spool + "/artifacts/\(good)/video.mp4"))
        #expect(FileManager.default.fileExists(atPath: dir.spool + "/artifacts/\(good)/render.log"))
        // Streamable from the first byte: the index (moov) comes before the media (mdat).
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir.spool + "/artifacts/\(good)/video.mp4"))
        let moov = bytes.firstRange(of: Data("moov".utf8))?.lowerBound, mdat = bytes.firstRange(of: Data("mdat".utf8))?.lowerBound
        #expect(moov != nil && mdat != nil && moov! < mdat!, "+faststart")
        #expect(g.render?.json["thumbnail"] == .string("artifacts/\(good)/thumbnail.jpg"))
        let thumb = try await probe(dir.spool + "/artifacts/\(good)/thumbnail.jpg")
        if case .array(let streams)? = thumb["streams"] { #expect(streams.first?.objectValue?["codec_name"] == .string("mjpeg")) } else { Issue.record("no thumbnail") }
        #expect(g.history.contains { $0.note?.contains("`ShowCreation` is not part of Manim CE") == true }, "the rename was applied and said")
        #expect(delivered[webm]?.render?.json["video"] == .string("artifacts/\(webm)/video.webm"))
        #expect(failed[rejected]?.error?.code == ErrorCode.codeRejected)
        #expect(failed[rejected]?.error?.message.contains("Line 5: `import os` is not allowed") == true)
        #expect(failed[long]?.error?.code == ErrorCode.tooLong)
        #expect(failed[broken]?.error?.code == ErrorCode.renderFailed)
        #expect(failed[broken]?.error?.message.contains("Line 6: ZeroDivisionError") == true, "\(failed[broken]?.error?.message ?? "")")
        #expect(failed[broken]?.codegen == nil, "a person's own code is not sent for repair")

        let back = try #require(jobs(in: spool, .codegen).first { $0.id == repairable })
        #expect(back.status == .ai_generating && back.codegen?.json["repairs"]?.intValue == 1)
        let repair = try #require(back.codegen?.json["repair"]?.objectValue)
        #expect(repair["error_code"] == .string(ErrorCode.renderFailed))
        #expect(repair["error"]?.stringValue?.contains("Line 6: NameError") == true, "\(repair)")
        #expect(repair["code"] == .string(back.code ?? "-") && repair["code"]?.stringValue?.contains("undefined_thing") == true)
        #expect(repair["log_tail"]?.stringValue?.contains("NameError") == true)
        #expect(back.history.last?.note?.hasPrefix("repair 1 of 2") == true)
        #expect(failed[exhausted]?.error?.code == ErrorCode.renderFailed, "no repairs left: it fails with the message")
        #expect(failed[exhausted]?.codegen?.json["repairs"]?.intValue == 2)
    }
}


@Suite struct RenderCrashTests {
    @Test(.timeLimit(.minutes(3)))
    func aRendererKilledMidRenderLosesNothingAndRendersTheJobOnce() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let id = try submitCode(spool, "self.play(Rotate(Square(), angle=20), run_time=25)")
        func start() throws -> StartedDaemon { try RenderDaemon.start(dir, ["MATHREEL_WARM_WORKERS": "1"]) }
        let first = try start()
        // Mid-render: the job is held in active/render, not yet on its way on (`next` not deliver), and the
        // runner is writing the scene's frames (seen from the host through the sandbox's root).
        let rendering = await waitUntil(timeout: 60, interval: 0.05) {
            jobs(in: spool, .active(.render)).first.map { $0.next != Place.deliver.path } == true && descendants(of: first.child.pid).contains { pid in
                let frames = "/proc/\(pid)/root/job/media/videos/480p15/partial_movie_files/Demo"
                return ((try? FileManager.default.contentsOfDirectory(atPath: frames)) ?? []).contains { $0.hasSuffix(".mp4") }
            }
        }
        #expect(rendering, "the render was under way")
        first.child.signalGroup(SIGKILL)
        _ = await first.child.wait()
        #expect(count(spool, .active(.render)) == 1, "the job is still held where the dead daemon left it")

        let second = try start()
        defer { second.child.signal(SIGKILL) }
        #expect(await waitUntil(timeout: 90) { count(spool, .deliver) == 1 }, "\(second.log)")
        #expect(await second.stop() == .exited(0))
        let out = try #require(jobs(in: spool, .deliver).first)
        #expect(out.id == id)
        #expect(out.crashes["render"] == 1)
        #expect(out.history.contains { $0.note?.contains("worker stopped while holding the job") == true }, "recovery said so")
        // The dead daemon's progress was never written (a job changes only by renames), so one render shows.
        #expect(out.history.filter { $0.status == JobStatus.rendering.rawValue }.count == 1)
        for place in [Place.render, .failed, .active(.render), .deferred(.render)] { #expect(count(spool, place) == 0, "\(place)") }
        #expect(try await probe(dir.spool + "/artifacts/\(id)/video.mp4")["format"] != nil)
    }
}

@Suite struct RenderLimitTests {
    @Test(.timeLimit(.minutes(2)))
    func aVideoOverTheSizeLimitFailsClearly() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let id = try submitCode(spool, "self.play(Create(Circle()))")
        let daemon = try RenderDaemon.start(dir, ["MATHREEL_MAX_VIDEO_BYTES": "2000", "MATHREEL_WARM_WORKERS": "1"])
        defer { daemon.child.signal(SIGKILL) }
        #expect(await waitUntil(timeout: 60) { count(spool, .failed) == 1 }, "\(daemon.log)")
        let job = try #require(jobs(in: spool, .failed).first)
        #expect(job.id == id && job.error?.code == ErrorCode.renderFailed)
        #expect(job.error?.message.contains("more than the 1 KB allowed") == true)
        #expect(job.error?.message.contains("allowed. Use a lower quality or a shorter animation.") == true, "\(job.error?.message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: dir.spool + "/artifacts/\(id)/video.mp4"), "nothing oversized was stored")
    }
}

@Suite struct RenderCacheTests {
    @Test(.timeLimit(.minutes(2)))
    func aRepeatIsServedFromTheCacheWithoutRendering() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        func submit(_ quality: Quality) throws -> String {
            try submitCode(spool, "self.play(Write(MathTex(r\"a^2 + b^2 = c^2\")))", options: JobOptions(quality: quality))
        }
        let daemon = try RenderDaemon.start(dir)
        defer { daemon.child.signal(SIGKILL) }
        let first = try submit(.low)
        #expect(await waitUntil(timeout: 60) { count(spool, .deliver) == 1 })
        let again = try submit(.low)
        let other = try submit(.medium)
        #expect(await waitUntil(timeout: 60) { count(spool, .deliver) == 3 })
        #expect(await daemon.stop() == .exited(0))

        let out = Dictionary(uniqueKeysWithValues: jobs(in: spool, .deliver).map { ($0.id, $0) })
        #expect(out[first]?.render?.json["cache_hit"] == .bool(false))
        #expect(out[again]?.render?.json["cache_hit"] == .bool(true), "the same code, scene, quality and format is a hit")
        #expect(out[other]?.render?.json["cache_hit"] == .bool(false), "another quality is a different video")
        #expect(out[again]?.render?.json["video"] == .string("artifacts/\(again)/video.mp4"))
        #expect(out[again]?.render?.json["duration_s"] == out[first]?.render?.json["duration_s"])
        let a = try Data(contentsOf: URL(fileURLWithPath: dir.spool + "/artifacts/\(first)/video.mp4"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir.spool + "/artifacts/\(again)/video.mp4"))
        #expect(a == b && !a.isEmpty)
        // The job's own files can go; the cache keeps its copy while a job it was made or served for is unwatched.
        try FileManager.default.removeItem(atPath: dir.spool + "/artifacts/\(first)")
        let cache = dir.state + "/render-cache"
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.count == 64 }
        // One entry per distinct video (two here), each under its checked key and, once the
        // installed Manim is known, also under the raw code's key.
        #expect(entries.count >= 2 && entries.count <= 4, "\(entries)")
        // Each names the jobs that use it, and each job lists its entries.
        let users = Set(try entries.flatMap { try FileManager.default.contentsOfDirectory(atPath: cache + "/\($0)/users") })
        #expect(users == [first, again, other], "\(users)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache + "/jobs/\(again)").allSatisfy { entries.contains($0) })
    }

    @Test func anEntryPastItsLifetimeOrOverTheCapIsNotServed() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let first = JobID.make(), second = JobID.make()
        let source = spool.artifactsPath(first), target = spool.artifactsPath(second)
        for d in [source, target] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try PlainFile.write(Array(repeating: 7, count: 5000), to: source + "/video.mp4")
        let key = String(repeating: "ab", count: 32), now = RenderCache.now()
        var cache = RenderCache(state: dir.state, ttl: 60, maxBytes: 1 << 20)
        cache.store(key, for: first, from: source, files: ["video.mp4"], render: [:], now: now)
        #expect(cache.serve(key, for: second, into: target, now: now + 61) == nil, "past its lifetime: a miss")
        #expect(!FileManager.default.fileExists(atPath: cache.root + "/" + key), "and removed")
        // Kept only under the cap: a store over it evicts at once (the oldest first).
        cache.maxBytes = 4000
        cache.store(key, for: first, from: source, files: ["video.mp4"], render: [:], now: now)
        #expect(!FileManager.default.fileExists(atPath: cache.root + "/" + key))
        #expect(cache.serve(key, for: second, into: target, now: now) == nil)
        // Keys and ids are never paths.
        cache.maxBytes = 1 << 20
        #expect(cache.serve("../../etc", for: second, into: target) == nil)
        cache.store("../x", for: first, from: source, files: ["video.mp4"], render: [:])
        cache.store(key, for: "../../x", from: source, files: ["video.mp4"], render: [:])
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.root).filter { $0.count == 64 } == [], "nothing was stored")
        #expect(!FileManager.default.fileExists(atPath: dir.state + "/x") && !FileManager.default.fileExists(atPath: dir.path + "/x"))
        #expect(cache.release("../\(first)") == [])
    }
}
