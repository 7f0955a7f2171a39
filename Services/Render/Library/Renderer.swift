// Renderer: the render stage's step. Static check, sandboxed render, checks of
// what came out (read without following links, size- and duration-checked,
// probed with ffprobe), then onward to deliver/ with the render's metadata, or
// a failure whose message says what happened and what to do.
import Logging
import MathreelCheck
import MathreelCore
import MathreelDaemon
import MathreelSandbox
import MathreelSpool
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

public struct Renderer: Sendable {
    public let spool: Spool
    public let config: Config
    public let checker: StaticChecker
    public var sandbox: Sandbox
    public let cache: RenderCache
    public let pool: WarmPool
    public let slots: RenderSlots
    public let logger: Logger

    public init(spool: Spool, config: Config, logger: Logger) {
        self.spool = spool; self.config = config; self.logger = logger
        checker = StaticChecker(config: config)
        cache = RenderCache(config: config)
        var sandbox = Sandbox(python: config.python, renders: Renderer.concurrency(config))
        sandbox.limits.wallSeconds = config.lifetimes.renderTimeout
        // Below the daemons where renders share the machine with them (the unit sets 10).
        sandbox.limits.nice = config.renderNice
        self.sandbox = sandbox
        let warm = config.warmWorkers ?? Renderer.concurrency(config)
        pool = WarmPool(sandbox: sandbox, size: warm)
        slots = RenderSlots(Renderer.concurrency(config))
    }

    func failure(_ code: String, _ message: String) -> JobError { JobError(stage: "render", code: code, message: message) }

    public func step(_ claim: Claim) async throws -> Outcome {
        let outcome = try await render(try claim.job(), progress: claim.progress(logger))
        guard case .fail(let job, let error) = outcome else { return outcome }
        return repairOrFail(job, error)
    }

    /// Failures the code itself caused: a model can be asked to fix these.
    static let repairable: Set<String> = [ErrorCode.codeRejected, ErrorCode.renderFailed, ErrorCode.renderTimeout,
                                          ErrorCode.memoryLimit, ErrorCode.tooLong]

    /// A model's code that failed goes back to codegen/ as a repair request (the error,
    /// the end of the render's log and the failing code) while repairs remain; anything
    /// else, and a person's own code, fails with the message.
    public func repairOrFail(_ job: Job, _ error: JobError) -> Outcome {
        guard job.kind == .problem, let code = job.code, Renderer.repairable.contains(error.code) else { return .fail(job, error) }
        var job = job
        // Read saturating and never below 0: a dropped file's -1000000 must not buy endless repairs.
        let done = job.repairs
        guard done < config.maxRepairs else { return .fail(job, error) }
        let log = (try? spool.artifacts(job.id))?.tail("render.log", limit: 64 << 10) ?? []
        let tail = String(decoding: log, as: UTF8.self).split(separator: "\n").suffix(30).joined(separator: "\n")
        job.repairs = done + 1
        job.repairRequest = RepairRequest(errorCode: error.code, error: error.message, logTail: String(tail.suffix(3000)), code: code)
        job.record(.ai_generating, by: "render", note: "repair \(done + 1) of \(config.maxRepairs): \(error.message.prefix(300))")
        return .handOn(job, to: .codegen)
    }

    /// `progress` shows a lesson's scenes as they change (the claimed file, rewritten in place).
    func render(_ job: Job, progress: @escaping @Sendable (Job) -> Void = { _ in }) async throws -> Outcome {
        if let plan = job.plan { return try await renderLesson(job, plan, progress: progress) }
        var job = job
        guard let source = job.code, !source.isEmpty else {
            return .fail(job, failure(ErrorCode.codeRejected, "The job has no Manim code to render."))
        }
        job.record(.code_validating, by: "render")
        let started = ContinuousClock.now
        let dir = try spool.artifacts(job.id)
        dir.remove("render.log")  // an earlier attempt's log must not pass for this one's
        // The very code seen before (same Manim) needs neither the check nor a render.
        let rawKey = checker.installedStamp().map {
            // Unnamed, the key says "every scene": several classes are a lesson, never one video of the last.
            RenderCache.key(code: source, scene: job.sceneName ?? "(every scene)", quality: job.options.quality,
                            format: job.options.format, manim: "raw " + $0)
        }
        if let rawKey, let hit = cache.serve(rawKey, for: job.id, into: dir.path) { return served(hit, job, since: started) }
        let check = try await checker.check(source, scene: job.sceneName)
        guard check.valid, let scene = check.scene else {
            return .fail(job, failure(ErrorCode.codeRejected, "The code was not rendered:\n" + check.message))
        }
        // A person's file of several scenes (none picked by `scene`) is one video of them all, in file order.
        if job.kind == .code, job.sceneName == nil, check.leaves.count > 1 {
            guard check.leaves.count <= Lesson.maxScenes else {
                return .fail(job, failure(ErrorCode.codeRejected, "The code defines \(check.leaves.count) scenes; mathreel renders at most \(Lesson.maxScenes) as one video. Pick one with the `scene` field, or split the file."))
            }
            var scenes: [PlannedScene] = []
            for (i, cls) in check.leaves.enumerated() {
                try dir.write(Array(check.code.utf8), as: Lesson.codeFile(i + 1))
                scenes.append(PlannedScene(n: i + 1, title: cls, code: "artifacts/\(job.id)/\(Lesson.codeFile(i + 1))", sceneClass: cls))
            }
            let plan = LessonPlan(scenes: scenes)
            job.plan = plan
            return try await renderLesson(job, plan, progress: progress)
        }
        job.record(.rendering, by: "render", note: check.warnings.isEmpty ? nil : check.warnings.map(\.description).joined(separator: " "))
        job.reach(.rendering)
        let checked = ContinuousClock.now

        try dir.write(Array(check.code.utf8), as: "scene.py")
        let key = RenderCache.key(code: check.code, scene: scene, quality: job.options.quality, format: job.options.format,
                                  manim: check.manimVersion ?? "")
        if let hit = cache.serve(key, for: job.id, into: dir.path) { return served(hit, job, since: started) }
        let request: JSONObject = ["code": .string(check.code), "scene": .string(scene), "threads": .int(Int64(encoderThreads)),
                                   "quality": .string(job.options.quality.rawValue), "format": .string(job.options.format.rawValue)]
        return try await withRunner { worker in
            try await produce(job, worker: worker, request: request, key: key, rawKey: rawKey, scene: scene,
                              started: started, checked: checked)
        }
    }

    /// A warm runner for one render, inside one of the renders' slots. The render's cores are
    /// busy until `body` has stored its video: only then may a replacement import.
    func withRunner<T>(_ body: (SandboxWorker) async throws -> T) async throws -> T {
        await slots.acquire()
        let worker: SandboxWorker
        do { worker = try await pool.take() } catch {
            await slots.release()
            throw error
        }
        do {
            let result = try await body(worker)
            await pool.finished()
            await slots.release()
            return result
        } catch {
            await pool.finished()
            await slots.release()
            throw error
        }
    }

    /// The render itself in the runner's sandbox, ffprobe and ffmpeg's pass in another, the
    /// files stored in the job's artifacts and the cache.
    func produce(_ job: Job, worker: SandboxWorker, request: JSONObject, key: String, rawKey: String?, scene: String,
                 started: ContinuousClock.Instant, checked: ContinuousClock.Instant) async throws -> Outcome {
        var job = job
        let dir = try spool.artifacts(job.id)
        let result = try await worker.render(request)
        let rendered = ContinuousClock.now
        try? dir.write(Array(result.log.utf8), as: "render.log")

        if result.timedOut {
            return .fail(job, failure(ErrorCode.renderTimeout, "The animation took longer than \(Int(sandbox.limits.wallSeconds)) s to render. Make it shorter or simpler and send it again."))
        }
        let file = "video." + job.options.format.rawValue
        guard let report = result.report, report["ok"] == .bool(true) else { return .fail(job, describe(result)) }
        // What the sandbox wrote is untrusted: it came through our own descriptor, and its size is checked.
        let size = worker.video.size
        guard size > 0 else { return .fail(job, failure(ErrorCode.renderFailed, "The render did not leave a video. Check that the scene's construct runs to its end, and send it again.")) }
        guard size <= config.maxVideoBytes else {
            return .fail(job, failure(ErrorCode.renderFailed, "The video is \(Renderer.megabytes(size)), more than the \(Renderer.megabytes(config.maxVideoBytes)) allowed. Use a lower quality or a shorter animation."))
        }
        // The untrusted video is read inside a fresh sandbox too: ffprobe for the metadata,
        // side by side with one ffmpeg pass that remuxes the mp4 for +faststart (streamable
        // from the first byte) and takes the last frame (the answer) as a JPEG thumbnail.
        let faststart = try sandbox.outputFile(), thumbnail = try sandbox.outputFile(), probed = try sandbox.outputFile()
        var ffmpeg = "/usr/bin/ffmpeg -v error -y -i /proc/self/fd/3 -sseof -0.3 -i /proc/self/fd/3"
        if job.options.format == .mp4 { ffmpeg += " -map 0 -c copy -movflags +faststart -f mp4 /proc/self/fd/4" }
        ffmpeg += " -map 1:v:0 -frames:v 1 -vf scale=320:-2 -f image2 -c:v mjpeg /proc/self/fd/5"
        let script = "/usr/bin/ffprobe -v error -print_format json -show_streams -show_format /proc/self/fd/3 >&6 & p=$!; "
            + ffmpeg + "; f=$?; wait $p || exit 9; exit $f"
        let (end, _, log) = try await sandbox.execute(["/bin/sh", "-c", script], files: [worker.video, faststart, thumbnail, probed], wallSeconds: 60)
        let posted = ContinuousClock.now
        guard let info = Probe(json: probed.read(limit: 1 << 20)) else {
            return .fail(job, failure(ErrorCode.renderFailed, "The render left a file that is not a readable video. Check the scene and send it again."))
        }
        let video = job.options.format == .mp4 ? faststart : worker.video
        guard end.succeeded || job.options.format != .mp4, video.size > 0 else {
            return .fail(job, failure(ErrorCode.renderFailed, "The video could not be prepared for streaming: \(log.suffix(300))"))
        }
        var made = [file]
        try dir.copy(fd: video.fd, as: file)
        if end.succeeded, thumbnail.size > 0 {
            try dir.copy(fd: thumbnail.fd, as: "thumbnail.jpg")
            made.append("thumbnail.jpg")
        }
        if info.duration > Double(job.options.maxDurationS) + 0.5 {
            return .fail(job, failure(ErrorCode.tooLong, "The video is \(Int(info.duration.rounded())) s long, more than the \(job.options.maxDurationS) s asked for. Shorten the animation (fewer or faster steps)."))
        }
        var record = RenderRecord()
        record.video = "artifacts/\(job.id)/\(file)"
        record.durationS = info.duration
        record.bytes = dir.size(file) ?? 0
        record.width = Int64(info.width)
        record.height = Int64(info.height)
        record.fps = info.fps
        record.cacheHit = false
        record.renderS = report["render_s"]?.doubleValue
        record.scene = scene
        record.layout = Renderer.layout(report)
        // the check; the sandbox's wall time (the scene's own render_s plus any wait for the
        // runner's import); ffprobe and ffmpeg's pass in their sandbox; the durable copies
        record.timings = RenderTimings(check: (checked - started).seconds, sandbox: (rendered - checked).seconds,
                                       post: (posted - rendered).seconds, store: (ContinuousClock.now - posted).seconds,
                                       total: (ContinuousClock.now - started).seconds)
        if made.contains("thumbnail.jpg") { record.thumbnail = "artifacts/\(job.id)/thumbnail.jpg" }
        job.render = record
        // The entries share the job's bytes and name it their user: they go when it is watched.
        cache.store(key, for: job.id, from: dir.path, files: made, render: record.json)
        if let rawKey { cache.store(rawKey, for: job.id, from: dir.path, files: made, render: record.json) }
        // A model's scene with text off the frame or on other text goes back once more, the defects named.
        if !record.layout.isEmpty, job.kind == .problem, job.codegen?.provider.map({ $0 != "offline" }) == true, let code = job.code {
            let defect = failure(ErrorCode.layoutDefect, "The animation rendered, but its layout has defects: \(Layout.words(record.layout)). Move, scale or fade out text so none leaves the frame or lies on other text.")
            if job.repairs < config.maxRepairs {
                job.repairs += 1
                job.repairRequest = RepairRequest(errorCode: defect.code, error: defect.message, logTail: "", code: code)
                job.record(.ai_generating, by: "render", note: "repair \(job.repairs) of \(config.maxRepairs): \(defect.message.prefix(300))")
                return .handOn(job, to: .codegen)
            }
        }
        return .handOn(job, to: .deliver)
    }

    /// The layout check's findings from a runner's report (bounded: the report is the sandbox's).
    static func layout(_ report: JSONObject) -> [JSONValue] {
        Array((report["layout"]?.arrayValue ?? []).prefix(20).compactMap { v -> JSONValue? in
            guard let o = v.objectValue, let kind = o["kind"]?.stringValue, ["offscreen", "overlap"].contains(kind) else { return nil }
            var clean: JSONObject = ["kind": .string(kind)]
            for k in ["what", "with"] { if let s = o[k]?.stringValue { clean[k] = .string(String(s.prefix(120))) } }
            if let t = o["at_s"]?.doubleValue, t.isFinite { clean["at_s"] = .double(t) }
            return .object(clean)
        })
    }

    /// The job onward with a cached render's files, now in its own artifacts.
    func served(_ hit: JSONObject, _ job: Job, since started: ContinuousClock.Instant) -> Outcome {
        var job = job
        var stored = hit
        // The cache's own list of its files is not part of the job's record.
        let files = stored.removeValue(forKey: "files")?.arrayValue?.compactMap(\.stringValue) ?? []
        var render = RenderRecord(json: stored)
        for name in files {
            if name.hasPrefix("video.") { render.video = "artifacts/\(job.id)/\(name)" } else { render.thumbnail = "artifacts/\(job.id)/\(name)" }
        }
        render.cacheHit = true
        render.timings = RenderTimings(total: (ContinuousClock.now - started).seconds)
        job.render = render
        return .handOn(job, to: .deliver)
    }

    /// A failed render in plain words, with the scene's line when there is one.
    public func describe(_ r: SandboxResult) -> JobError {
        if case .signaled(let s) = r.termination, s == SIGXCPU || s == SIGKILL && r.report == nil {
            return failure(ErrorCode.renderTimeout, "The animation used more CPU time than allowed. Make it shorter or simpler.")
        }
        guard let report = r.report else {
            if r.log.contains("MemoryError") { return failure(ErrorCode.memoryLimit, "The animation needed more memory than allowed. Use fewer or simpler objects.") }
            return failure(ErrorCode.renderFailed, "The render stopped unexpectedly (\(r.termination)). Check the scene and send it again.")
        }
        let kind = report["error"]?.stringValue ?? "Error"
        let message = report["message"]?.stringValue ?? ""
        if kind == "MemoryError" { return failure(ErrorCode.memoryLimit, "The animation needed more memory than allowed. Use fewer or simpler objects.") }
        if kind == "BlockingIOError" || message.contains("Resource temporarily unavailable") {
            return failure(ErrorCode.renderFailed, "The animation tried to start more processes than a render may (\(sandbox.limits.processes)). A scene needs none: remove the process or thread creation.")
        }
        let line = report["line"]?.intValue.map { "Line \($0): " } ?? ""
        return failure(ErrorCode.renderFailed, "\(line)\(kind): \(message)")
    }

    /// A size in the unit a person reads: "52 MB", "1.5 MB", "640 KB", "900 bytes".
    static func megabytes(_ n: Int64) -> String {
        if n >= 10 << 20 { return "\(n >> 20) MB" }
        if n >= 1 << 20 { return "\(Double(n * 10 >> 20) / 10) MB" }
        return n >= 1 << 10 ? "\(n >> 10) KB" : "\(n) bytes"
    }

    /// Each render's encoder threads: the cores shared among the renders that may run at once.
    var encoderThreads: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) / Renderer.concurrency(config)) }

    /// The worker loop over render/, up to MATHREEL_MAX_CONCURRENT_RENDERS at once.
    static func concurrency(_ config: Config) -> Int {
        config.maxConcurrentRenders ?? max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    public func loop() -> WorkerLoop {
        WorkerLoop(spool: spool, stage: .render, concurrency: Renderer.concurrency(config), logger: logger) { claim in
            try await self.step(claim)
        }
    }
}

/// ffprobe's view of a finished video.
public struct Probe: Sendable {
    public let duration: Double
    public let width: Int
    public let height: Int
    public let fps: Double
    /// The video stream's frames, when ffprobe was asked to count them (`-count_packets`).
    public let frames: Int?

    /// From `ffprobe -print_format json -show_streams -show_format`; nil without a video stream.
    public init?(json: [UInt8]) {
        guard case .object(let o)? = try? JSONValue.parse(json), case .array(let streams)? = o["streams"],
              let v = streams.compactMap(\.objectValue).first(where: { $0["codec_type"] == .string("video") }) else { return nil }
        duration = Double(o["format"]?.objectValue?["duration"]?.stringValue ?? "") ?? 0
        let rate = (v["avg_frame_rate"]?.stringValue ?? "0/1").split(separator: "/").compactMap { Double($0) }
        width = v["width"]?.intValue ?? 0
        height = v["height"]?.intValue ?? 0
        fps = rate.count == 2 && rate[1] > 0 ? rate[0] / rate[1] : 0
        frames = v["nb_read_packets"]?.stringValue.flatMap { Int($0) }
    }
}

/// The `mathreel-render` daemon: the sandbox proven, runners warmed, the stage's loop.
public enum RenderDaemon {
    /// The `mathreel-render` daemon.
    public static func run(config: Config) async throws {
        let logger = Logger(label: "render")
        let spool = try Spool(root: config.spool)
        let renderer = Renderer(spool: spool, config: config, logger: logger)
        // Untrusted code never runs as root or past its limits: a sandbox that cannot hold is no daemon.
        if let refusal = renderer.sandbox.refusal {
            logger.critical("refusing to start: \(refusal)")
            throw ChildError(description: refusal)
        }
        _ = PlainDirectory.makeIfMissing(config.state)
        await renderer.pool.fill()
        let checker = renderer.checker
        Task { await checker.prime() }
        // Waiting runners die with the daemon anyway (--die-with-parent); this is the tidy way.
        try await Daemon.serve([renderer.loop()], name: "render", logger: logger)
        await renderer.pool.shutdown()
    }
}
