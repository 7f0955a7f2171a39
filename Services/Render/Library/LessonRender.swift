// LessonRender: a lesson's scenes rendered alone, together. Each scene not yet
// ready gets its own check, cache key and sandboxed render (up to
// MATHREEL_MAX_SCENE_CONCURRENCY of one job at once, each in one of the
// renders' slots). A scene that fails is replaced by its slate (slate.py: its
// title and goal as plain text) and the job is marked degraded; only when no
// scene of its own rendered does the lesson fail. The scene videos are joined
// frame for frame by ffmpeg's concat demuxer without re-encoding (every scene
// had the same settings), the boundaries recorded in the plan.
import MathreelCheck
import MathreelCore
import MathreelDaemon
import MathreelSandbox
import MathreelSpool

/// How one scene's render ended.
enum SceneRender: Sendable {
    case ready(frames: Int, seconds: Double, cacheHit: Bool, layout: [JSONValue])
    case failed(JobError)
    /// Not started: the lesson's time ran out (never the scene's fault, so never a repair).
    case outOfTime(JobError)
}

extension Renderer {
    func renderLesson(_ job: Job, _ plan: LessonPlan, progress: (Job) -> Void) async throws -> Outcome {
        var job = job, plan = plan
        let started = ContinuousClock.now
        let dir = try spool.artifacts(job.id)
        let format = job.options.format
        job.record(.rendering, by: "render", note: "a lesson of \(plan.scenes.count) scenes")
        job.reach(.rendering)
        // A scene an earlier try of this job finished keeps its video; one that failed for good gets its slate.
        let todo = plan.scenes.filter {
            $0.status != .error && !($0.status == .ready && $0.durationFrames != nil && (dir.size(Lesson.videoFile($0.n, format)) ?? 0) > 0)
        }
        var sources: [(n: Int, code: String, scene: String?)] = []
        for s in todo {
            let code = dir.tail(Lesson.codeFile(s.n), limit: 1 << 20)
            sources.append((s.n, String(decoding: code, as: UTF8.self), s.sceneClass))
        }
        var seconds = 0.0, hits = 0
        for s in todo { plan.scenes[s.n - 1].status = .rendering }
        job.plan = plan
        progress(job)
        // Each scene's state is shown as it ends, so a person sees the lesson fill in.
        try await renderScenes(job, sources, deadline: started + .seconds(config.lessonTimeout)) { n, result in
            let i = n - 1
            switch result {
            case .ready(let frames, let s, let hit, let layout):
                plan.scenes[i].renders += hit ? 0 : 1
                plan.scenes[i].cacheHit = hit
                plan.scenes[i].layout = layout
                // A model's scene whose text leaves the frame or lies on other text gets a repair round, the defects named.
                let defect = failure(ErrorCode.layoutDefect, "Scene \(n) rendered, but its layout has defects: \(Layout.words(layout)). Move, scale or fade out text so none leaves the frame or lies on other text.")
                if !layout.isEmpty, canRepair(job, plan.scenes[i], defect) {
                    plan.scenes[i].status = .generating_code
                    plan.scenes[i].error = defect
                    seconds += s
                    break
                }
                plan.scenes[i].status = .ready; plan.scenes[i].durationFrames = frames
                plan.scenes[i].error = nil; plan.scenes[i].slate = false
                seconds += s; hits += hit ? 1 : 0
            case .outOfTime(let e):
                plan.scenes[i].status = .error
                plan.scenes[i].error = e
            case .failed(let e):
                plan.scenes[i].renders += 1
                plan.scenes[i].cacheHit = false
                plan.scenes[i].error = e
                // A model's scene goes back to be repaired alone while its repairs last.
                plan.scenes[i].status = canRepair(job, plan.scenes[i], e) ? .generating_code : .error
                logger.warning(plan.scenes[i].status == .error ? "a lesson's scene failed; its slate stands in" : "a lesson's scene failed; it goes back for repair",
                               metadata: ["job_id": "\(job.id)", "scene": "\(n)", "error": "\(e.message.prefix(300))"])
            }
            job.plan = plan
            progress(job)
        }
        let repairs = plan.scenes.filter { $0.status == .generating_code }
        if !repairs.isEmpty {
            job.plan = plan
            let list = repairs.map { "scene \($0.n): \($0.error?.message.prefix(200) ?? "")" }.joined(separator: "; ")
            job.record(.ai_generating, by: "render", note: "repair of \(list)")
            return .handOn(job, to: .codegen)
        }
        let failed = plan.scenes.filter { $0.status == .error }
        // A person's own scenes are theirs to fix: the error, not a slate of a class name.
        if job.kind == .code, let first = failed.first {
            job.plan = plan
            let e = first.error ?? failure(ErrorCode.renderFailed, "")
            return .fail(job, failure(e.code, "Scene \(first.n) (`\(first.sceneClass ?? "")`) failed: \(e.message)"))
        }
        if failed.count == plan.scenes.count {
            job.plan = plan
            let first = failed[0].error ?? failure(ErrorCode.renderFailed, "")
            return .fail(job, failure(first.code, "No scene of the lesson could be rendered. Scene 1: \(first.message)"))
        }
        // Each failed scene's slate: our own template with its title and goal, never its code.
        let slates = failed.map { (n: $0.n, code: Renderer.slate(title: $0.title, goal: $0.goal), scene: Optional("Slate")) }
        var slateFailed: Int?
        try await renderScenes(job, slates) { n, result in
            guard case .ready(let frames, _, _, _) = result else { slateFailed = slateFailed ?? n; return }
            plan.scenes[n - 1].slate = true
            plan.scenes[n - 1].durationFrames = frames
        }
        if let n = slateFailed {
            job.plan = plan
            let why = plan.scenes[n - 1].error?.message ?? ""
            return .fail(job, failure(ErrorCode.renderFailed, "Scene \(n) of the lesson failed (\(why.prefix(300))), and so did the slate that stands in for it. Send the problem again; if it fails again, please report it."))
        }
        job.degraded = plan.scenes.contains { $0.slate }

        job.reach(.combining, note: job.degraded ? "scene \(failed.map { String($0.n) }.joined(separator: ", ")) replaced by a slate" : nil)
        let combining = ContinuousClock.now
        let counts = plan.scenes.map { $0.durationFrames ?? 0 }
        switch try await combine(job, scenes: plan.scenes.map(\.n), frames: counts.reduce(0, +)) {
        case .failure(let e):
            job.plan = plan
            return .fail(job, e)
        case .success(let info):
            plan.placeFrames(counts)
            job.plan = plan
            var record = RenderRecord()
            record.video = "artifacts/\(job.id)/video.\(format.rawValue)"
            if dir.size("thumbnail.jpg") != nil { record.thumbnail = "artifacts/\(job.id)/thumbnail.jpg" }
            record.durationS = info.duration
            record.bytes = dir.size("video." + format.rawValue) ?? 0
            record.width = Int64(info.width)
            record.height = Int64(info.height)
            record.fps = info.fps
            record.cacheHit = hits == plan.scenes.count
            record.renderS = seconds
            record.timings = RenderTimings(sandbox: (combining - started).seconds, post: (ContinuousClock.now - combining).seconds,
                                           total: (ContinuousClock.now - started).seconds)
            job.render = record
            if info.duration > Double(job.options.maxDurationS) + 0.5 {
                return .fail(job, failure(ErrorCode.tooLong, "The lesson is \(Int(info.duration.rounded())) s long, more than the \(job.options.maxDurationS) s asked for. Ask for fewer scenes or a longer max_duration_s (at most 300)."))
            }
            return .handOn(job, to: .deliver)
        }
    }

    /// Whether a scene that failed goes back to the model that wrote it (never the built-in solver's, never a person's).
    func canRepair(_ job: Job, _ scene: PlannedScene, _ error: JobError) -> Bool {
        guard job.kind == .problem, let provider = job.codegen?.provider, provider != "offline" else { return false }
        return (Renderer.repairable.contains(error.code) || error.code == ErrorCode.layoutDefect) && scene.repairs < config.maxRepairs
    }

    /// The scenes' renders, up to MATHREEL_MAX_SCENE_CONCURRENCY at once; `done` hears each as it ends.
    /// Past `deadline` no scene starts: it fails as out of time (a slate stands in, which is short).
    func renderScenes(_ job: Job, _ scenes: [(n: Int, code: String, scene: String?)], deadline: ContinuousClock.Instant? = nil,
                      done: (Int, SceneRender) -> Void) async throws {
        let width = max(1, config.maxSceneConcurrency)
        let seconds = Int(config.lessonTimeout)
        try await withThrowingTaskGroup(of: (Int, SceneRender).self) { group in
            var next = 0
            func add() {
                let s = scenes[next]
                next += 1
                if let deadline, ContinuousClock.now >= deadline {
                    group.addTask { (s.n, .outOfTime(self.failure(ErrorCode.renderTimeout, "The lesson's \(seconds) s for rendering ran out before scene \(s.n) could start."))) }
                    return
                }
                group.addTask { (s.n, try await self.renderScene(job, n: s.n, code: s.code, scene: s.scene)) }
            }
            while next < min(width, scenes.count) { add() }
            while let (n, r) = try await group.next() {
                done(n, r)
                if next < scenes.count { add() }
            }
        }
    }

    /// One scene: checked, served from the cache or rendered in the sandbox, its frames
    /// counted by ffprobe in another, its video kept as artifacts/<id>/scene-N.<ext>.
    func renderScene(_ job: Job, n: Int, code: String, scene: String?) async throws -> SceneRender {
        let dir = try spool.artifacts(job.id)
        let format = job.options.format
        let file = Lesson.videoFile(n, format), entry = "video." + format.rawValue
        let check = try await checker.check(code, scene: scene)
        guard check.valid, let cls = check.scene else {
            return .failed(failure(ErrorCode.codeRejected, "Scene \(n)'s code was not rendered:\n" + check.message))
        }
        // A scene's entry is its raw render (no thumbnail, no faststart): never one a single-scene job may be served.
        let key = RenderCache.key(code: check.code, scene: "lesson scene " + cls, quality: job.options.quality, format: format, manim: check.manimVersion ?? "")
        if let hit = cache.serve(key, for: job.id, into: dir.path, renaming: [entry: file]), let frames = Job.count(hit["frames"]), frames > 0,
           (dir.size(file) ?? 0) > 0 {
            return .ready(frames: frames, seconds: 0, cacheHit: true, layout: hit["layout"]?.arrayValue ?? [])
        }
        let request: JSONObject = ["code": .string(check.code), "scene": .string(cls), "threads": .int(Int64(encoderThreads)),
                                   "quality": .string(job.options.quality.rawValue), "format": .string(format.rawValue)]
        return try await withRunner { worker in
            let result = try await worker.render(request)
            try? dir.write(Array(result.log.utf8), as: "scene-\(n).log")
            if result.timedOut {
                return .failed(failure(ErrorCode.renderTimeout, "Scene \(n) took longer than \(Int(sandbox.limits.wallSeconds)) s to render."))
            }
            guard let report = result.report, report["ok"] == .bool(true) else { return .failed(describe(result)) }
            let size = worker.video.size
            guard size > 0, size <= config.maxVideoBytes else {
                return .failed(failure(ErrorCode.renderFailed, size == 0 ? "Scene \(n) left no video." : "Scene \(n)'s video is \(Renderer.megabytes(size)), more than the \(Renderer.megabytes(config.maxVideoBytes)) allowed."))
            }
            // What the sandbox wrote is untrusted: its frames are counted in a fresh one.
            let probed = try sandbox.outputFile()
            let (_, _, log) = try await sandbox.execute(["/usr/bin/ffprobe", "-v", "error", "-count_packets", "-print_format", "json",
                                                         "-show_streams", "-show_format", "-o", "/proc/self/fd/4", "/proc/self/fd/3"],
                                                        files: [worker.video, probed], wallSeconds: 60)
            guard let info = Probe(json: probed.read(limit: 1 << 20)), let frames = info.frames, frames > 0 else {
                return .failed(failure(ErrorCode.renderFailed, "Scene \(n) left a file that is not a readable video. \(log.suffix(200))"))
            }
            try dir.copy(fd: worker.video.fd, as: file)
            let renderS = report["render_s"]?.doubleValue ?? 0
            let layout = Renderer.layout(report)
            cache.store(key, for: job.id, from: dir.path, files: [file], renaming: [file: entry],
                        render: ["frames": .int(Int64(frames)), "duration_s": .double(info.duration), "render_s": .double(renderS), "layout": .array(layout)])
            return .ready(frames: frames, seconds: renderS, cacheHit: false, layout: layout)
        }
    }

    /// The scenes' videos joined without re-encoding into video.<ext> (streamable from the
    /// first byte), its last frame the thumbnail; refused unless it holds exactly `frames` frames.
    func combine(_ job: Job, scenes: [Int], frames: Int) async throws -> Result<Probe, JobError> {
        let dir = try spool.artifacts(job.id)
        let format = job.options.format
        let out = try sandbox.outputFile(), thumbnail = try sandbox.outputFile(), probed = try sandbox.outputFile()
        let inputs = try scenes.map { try sandbox.inputFile(copying: dir.file(Lesson.videoFile($0, format))) }
        // Descriptors: 3 the lesson, 4 its thumbnail, 5 ffprobe's report, 6... the scenes in order.
        let list = inputs.indices.map { "file /proc/self/fd/\($0 + 6)" }.joined(separator: "\\n")
        let script = "printf '\(list)\\n' > /job/tmp/scenes.txt && "
            + "/usr/bin/ffmpeg -nostdin -v error -y -f concat -safe 0 -i /job/tmp/scenes.txt -map 0 -c copy "
            + (format == .mp4 ? "-movflags +faststart -f mp4" : "-f webm") + " /proc/self/fd/3 || exit 8; "
            + "/usr/bin/ffprobe -v error -count_packets -print_format json -show_streams -show_format -o /proc/self/fd/5 /proc/self/fd/3 || exit 9; "
            + "/usr/bin/ffmpeg -nostdin -v error -y -sseof -0.3 -i /proc/self/fd/3 -map 0:v:0 -frames:v 1 -vf scale=320:-2 -f image2 -c:v mjpeg /proc/self/fd/4"
        let (end, _, log) = try await sandbox.execute(["/bin/sh", "-c", script], files: [out, thumbnail, probed] + inputs, wallSeconds: 120)
        guard let info = Probe(json: probed.read(limit: 1 << 20)), out.size > 0 else {
            logger.error("a lesson's scenes could not be joined", metadata: ["job_id": "\(job.id)", "log": "\(log.suffix(500))"])
            return .failure(failure(ErrorCode.renderFailed, "The lesson's scenes rendered but could not be joined into one video (\(end)). Send it again; if it fails again, please report it."))
        }
        guard info.frames == frames else {
            // Every scene had the same settings, so this is our bug: never a lesson whose boundaries are wrong.
            logger.error("a lesson's joined video has the wrong number of frames", metadata: ["job_id": "\(job.id)", "expected": "\(frames)", "got": "\(info.frames ?? -1)"])
            return .failure(failure(ErrorCode.renderFailed, "The lesson's scenes could not be joined frame for frame (\(info.frames ?? 0) frames, not \(frames)). Please report it."))
        }
        guard out.size <= config.maxVideoBytes else {
            return .failure(failure(ErrorCode.renderFailed, "The lesson is \(Renderer.megabytes(out.size)), more than the \(Renderer.megabytes(config.maxVideoBytes)) allowed. Use a lower quality or fewer scenes."))
        }
        try dir.copy(fd: out.fd, as: "video." + format.rawValue)
        if end.succeeded, thumbnail.size > 0 { try dir.copy(fd: thumbnail.fd, as: "thumbnail.jpg") } else { dir.remove("thumbnail.jpg") }
        return .success(info)
    }

    /// A scene's slate: slate.py with its title and goal (plain text, wrapped, bounded) filled in.
    static func slate(title: String, goal: String) -> String {
        func clean(_ s: String, _ limit: Int) -> String {
            String(String.UnicodeScalarView(s.unicodeScalars.filter { !$0.properties.isNoncharacterCodePoint && $0.value >= 0x20 && $0.value != 0x7f }).prefix(limit))
        }
        var lines: [String] = [], line = ""
        for word in clean(goal, 300).split(separator: " ") {
            if !line.isEmpty, line.count + word.count >= 44 { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        let heading = clean(title, 80).isEmpty ? "This scene" : clean(title, 80)
        let body = lines.isEmpty ? "This scene could not be drawn." : lines.prefix(6).joined(separator: "\n")
        func literal(_ s: String) -> String { String(decoding: JSONValue.string(s).serialized(pretty: false), as: UTF8.self) }
        // The template's marker lines are replaced whole, so nothing else in it can match.
        return String(decoding: PackageResources.slate_py, as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { line -> String in
                switch line {
                case "TITLE = \"\"": "TITLE = " + literal(heading)
                case "GOAL = \"\"": "GOAL = " + literal(body)
                default: String(line)
                }
            }
            .joined(separator: "\n")
    }
}
