// Lesson: a job's plan of scenes and its stages (docs/PROTOCOL.md, "Lessons"),
// typed once. Who moves a scene through its states:
//   queued          codegen wrote the plan; the scene's code is on file
//   generating_code codegen is writing or repairing this scene's code
//   rendering       render took the scene
//   ready           render stored its video (artifacts/<id>/scene-N.<ext>) and its frames
//   error           the scene failed for good; render put its slate in its place
// A plan keeps the fields this build does not know, like the stage records.

/// The lesson's stage, with the progress that goes with it (sf_backend's numbers).
public enum LessonStage: String, Sendable, CaseIterable {
    case initializing, planning, scenario_creation, code_generation, rendering, combining, storage, completed

    public var progress: Int {
        switch self {
        case .initializing: 5
        case .planning: 15
        case .scenario_creation: 30
        case .code_generation: 50
        case .rendering: 80
        case .combining: 90
        case .storage: 95
        case .completed: 100
        }
    }
}

public enum SceneStatus: String, Sendable, CaseIterable {
    case queued, generating_code, rendering, ready, error
}

/// One entry of `stages`: when the job reached a stage, and a short note.
public struct StageEntry: Sendable, Equatable {
    public var stage: LessonStage
    public var at: String
    public var note: String?
    public init(stage: LessonStage, at: String = Timestamp.string(), note: String? = nil) {
        self.stage = stage; self.at = at; self.note = note
    }
    init?(_ v: JSONValue) {
        guard let o = v.objectValue, let s = o["stage"]?.stringValue.flatMap(LessonStage.init), let at = o["at"]?.stringValue else { return nil }
        self.init(stage: s, at: at, note: o["note"]?.stringValue)
    }
    var json: JSONValue {
        var o: JSONObject = ["stage": .string(stage.rawValue), "progress": .int(Int64(stage.progress)), "at": .string(at)]
        if let note { o["note"] = .string(note) }
        return .object(o)
    }
}

/// One scene of a lesson's plan (`plan.scenes[]`).
public struct PlannedScene: Sendable, Equatable {
    public var n: Int
    public var title: String
    public var goal: String
    /// The sentences a narrator speaks over this scene.
    public var narration: [String]
    public var status: SceneStatus
    /// The scene code's version: 1, then one more for each repair or edit.
    public var version: Int
    /// The scene's code, relative to the spool root (`artifacts/<id>/scene-N.py`).
    public var code: String?
    /// The Scene class in that code.
    public var sceneClass: String?
    public var startFrame: Int?
    public var endFrame: Int?
    public var durationFrames: Int?
    /// Why the scene failed (`{code, message}`), when it did.
    public var error: JobError?
    /// Renders of this scene's code so far, repairs asked for it, and model replies kept
    /// for it (artifacts/<id>/scene-N-attempt-K.py).
    public var renders: Int
    public var repairs: Int
    public var attempts: Int
    /// Whether this scene's video came from the render cache last time (not counted in `renders`).
    public var cacheHit: Bool
    /// Whether the scene on screen is its slate (its own code failed for good).
    public var slate: Bool
    /// What a person asked to change in this scene (an edit's scene, until codegen wrote it).
    public var edit: String?
    /// What its render's layout check found (`[{at_s, kind, what, with}]`).
    public var layout: [JSONValue] = []
    /// When each narration sentence began, in seconds from the scene's start, as its render
    /// recorded it (`narration_at`; empty for a silent scene). The captions are made from it.
    public var narrationAt: [Double] = []
    public var unknown: JSONObject = [:]

    public init(n: Int, title: String, goal: String = "", narration: [String] = [], status: SceneStatus = .queued,
                version: Int = 1, code: String? = nil, sceneClass: String? = nil) {
        self.n = n; self.title = title; self.goal = goal; self.narration = narration; self.status = status
        self.version = version; self.code = code; self.sceneClass = sceneClass
        renders = 0; repairs = 0; attempts = 0; cacheHit = false; slate = false
    }

    static let known: Set<String> = ["n", "title", "goal", "narration", "status", "version", "code", "scene", "start_frame",
                                     "end_frame", "duration_frames", "error", "renders", "repairs", "attempts", "cache_hit", "slate", "edit", "layout", "narration_at"]

    /// Reads one scene; nil with the reason in `problems` when a known field is wrong.
    init?(_ v: JSONValue, index: Int, problems: inout [String]) {
        let path = "plan.scenes[\(index)]"
        guard let o = v.objectValue else { problems.append("`\(path)` must be an object; got \(v.typeName)"); return nil }
        guard let n = o["n"]?.intValue, (1...Lesson.maxScenes).contains(n) else {
            problems.append("`\(path).n` must be a scene number from 1 to \(Lesson.maxScenes)"); return nil
        }
        guard let title = o["title"]?.stringValue else { problems.append("`\(path).title` must be text"); return nil }
        var status = SceneStatus.queued
        if let s = o["status"], !s.isNull {
            guard let st = s.stringValue.flatMap(SceneStatus.init) else {
                problems.append("`\(path).status` must be one of \(SceneStatus.allCases.map(\.rawValue).joined(separator: ", "))"); return nil
            }
            status = st
        }
        self.init(n: n, title: title, goal: o["goal"]?.stringValue ?? "",
                  narration: o["narration"]?.arrayValue?.compactMap(\.stringValue) ?? [], status: status,
                  version: max(1, Job.count(o["version"]) ?? 1), code: o["code"]?.stringValue, sceneClass: o["scene"]?.stringValue)
        startFrame = Job.count(o["start_frame"]); endFrame = Job.count(o["end_frame"]); durationFrames = Job.count(o["duration_frames"])
        if let e = o["error"]?.objectValue, let c = e["code"]?.stringValue {
            error = JobError(stage: e["stage"]?.stringValue ?? "render", code: c, message: e["message"]?.stringValue ?? "")
        }
        renders = Job.counter(o["renders"]); repairs = Job.counter(o["repairs"]); attempts = Job.counter(o["attempts"])
        if case .bool(true)? = o["slate"] { slate = true }
        if case .bool(true)? = o["cache_hit"] { cacheHit = true }
        edit = o["edit"]?.stringValue
        layout = o["layout"]?.arrayValue ?? []
        // All or none: one bad time would shift every caption after it.
        let at = (o["narration_at"]?.arrayValue ?? []).map { $0.doubleValue.flatMap { $0.isFinite && $0 >= 0 && $0 < 3_600 ? $0 : nil } }
        narrationAt = at.contains(nil) ? [] : at.compactMap { $0 }
        unknown = o.filter { !PlannedScene.known.contains($0.key) }
    }

    public var json: JSONValue {
        var o = unknown
        o["n"] = .int(Int64(n)); o["title"] = .string(title); o["goal"] = .string(goal)
        o["narration"] = .array(narration.map(JSONValue.string)); o["status"] = .string(status.rawValue)
        o["version"] = .int(Int64(version)); o["code"] = code.map(JSONValue.string) ?? .null
        if let sceneClass { o["scene"] = .string(sceneClass) }
        for (k, v) in [("start_frame", startFrame), ("end_frame", endFrame), ("duration_frames", durationFrames)] {
            o[k] = v.map { .int(Int64($0)) } ?? .null
        }
        o["error"] = error.map { .object(["code": .string($0.code), "message": .string($0.message)]) } ?? .null
        o["renders"] = .int(Int64(renders)); o["repairs"] = .int(Int64(repairs)); o["attempts"] = .int(Int64(attempts))
        if slate { o["slate"] = .bool(true) }
        o["cache_hit"] = .bool(cacheHit)
        if let edit { o["edit"] = .string(edit) }
        if !layout.isEmpty { o["layout"] = .array(layout) }
        if !narrationAt.isEmpty { o["narration_at"] = .array(narrationAt.map(JSONValue.double)) }
        return .object(o)
    }
}

/// A lesson's plan (`plan`): its scenes in order.
public struct LessonPlan: Sendable, Equatable {
    public var scenes: [PlannedScene]
    public var unknown: JSONObject = [:]
    public init(scenes: [PlannedScene]) { self.scenes = scenes }

    init?(_ v: JSONValue, problems: inout [String]) {
        guard let o = v.objectValue, let list = o["scenes"]?.arrayValue else {
            problems.append("`plan` must be an object with a `scenes` list"); return nil
        }
        guard (1...Lesson.maxScenes).contains(list.count) else {
            problems.append("`plan.scenes` must hold 1 to \(Lesson.maxScenes) scenes; got \(list.count)"); return nil
        }
        var scenes: [PlannedScene] = []
        for (i, s) in list.enumerated() {
            guard let scene = PlannedScene(s, index: i, problems: &problems) else { return nil }
            guard scene.n == i + 1 else { problems.append("`plan.scenes[\(i)].n` must be \(i + 1) (scenes are numbered in order)"); return nil }
            scenes.append(scene)
        }
        self.scenes = scenes
        unknown = o.filter { $0.key != "scenes" }
    }

    public var json: JSONValue { .object(unknown.merging(["scenes": .array(scenes.map(\.json))]) { $1 }) }

    /// Sets each scene's frames from its frame count, in order: scene n+1 starts the frame after scene n ends.
    public mutating func placeFrames(_ counts: [Int]) {
        var start = 0
        for (i, count) in counts.enumerated() where i < scenes.count {
            scenes[i].startFrame = start
            scenes[i].durationFrames = count
            scenes[i].endFrame = start + count - 1
            start += count
        }
    }
}

public enum Lesson {
    public static let maxScenes = 8
    /// Scene n's code and video in the job's artifacts (names of our own, never from a job file).
    public static func codeFile(_ n: Int) -> String { "scene-\(n).py" }
    /// Whether `name` is a scene's code: `scene-N.py` exactly, N from 1 to maxScenes.
    public static func isCodeFile(_ name: String) -> Bool {
        (1...maxScenes).contains { name == codeFile($0) }
    }
    /// Whether `name` is a scene's own video: `scene-N.mp4` or `scene-N.webm` exactly.
    public static func isSceneVideo(_ name: String) -> Bool {
        (1...maxScenes).contains { n in VideoFormat.allCases.contains { name == videoFile(n, $0) } }
    }
    public static func videoFile(_ n: Int, _ format: VideoFormat) -> String { "scene-\(n).\(format.rawValue)" }
    /// A lesson's `max_duration_s` when the job does not say (a single scene keeps 30).
    public static let defaultDuration = 180

    /// "en", "pt-BR", "zh-Hant": 2 or 3 letters, then parts of 2 to 8 letters or digits.
    public static func isLanguageTag(_ s: String) -> Bool {
        let parts = s.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "-" || $0 == "_" })
        guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLetter }) else { return false }
        return s.utf8.count <= 35 && parts.dropFirst().allSatisfy { (2...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }

    /// A voice's name: letters, digits, `-`, `_` and `.`, at most 64, never `..` (it names a file).
    public static func isVoiceName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && !s.contains("..") && !s.hasPrefix(".")
            && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}

public enum Layout {
    /// The check's findings in words a model (or a person) can act on.
    public static func words(_ entries: [JSONValue]) -> String {
        entries.prefix(8).compactMap { v -> String? in
            guard let o = v.objectValue else { return nil }
            let what = o["what"]?.stringValue ?? "some text", at = o["at_s"]?.doubleValue.map { " at \(($0 * 10).rounded() / 10) s" } ?? ""
            if o["kind"]?.stringValue == "overlap" { return "\(what) overlaps \(o["with"]?.stringValue ?? "other text")\(at)" }
            return "\(what) leaves the frame\(at)"
        }.joined(separator: "; ")
    }
}

extension Job {
    /// What the API, SSE, `mathreel status --json` and the web page show of a lesson:
    /// its stage, the stages reached, and each scene's state (never a file path).
    public var lessonView: JSONObject {
        var o: JSONObject = ["version": .int(Int64(version)), "parent_id": parentID.map(JSONValue.string) ?? .null,
                             "stage": stage.map { .string($0.rawValue) } ?? .null, "stages": .array(stages.map(\.json))]
        guard let plan else { return o }
        o["degraded"] = .bool(degraded)
        o["scenes"] = .array(plan.scenes.map { s in
            var v: JSONObject = ["n": .int(Int64(s.n)), "title": .string(s.title), "status": .string(s.status.rawValue), "slate": .bool(s.slate)]
            for (k, f) in [("start_frame", s.startFrame), ("end_frame", s.endFrame), ("duration_frames", s.durationFrames)] {
                v[k] = f.map { .int(Int64($0)) } ?? .null
            }
            v["error"] = s.error.map { .object(["code": .string($0.code), "message": .string($0.message)]) } ?? .null
            return .object(v)
        })
        return o
    }

    /// Moves the lesson to `stage`: `stage`, `progress` and one more `stages` entry.
    /// A stage reached again (a retry after a crash) keeps its first entry.
    public mutating func reach(_ stage: LessonStage, note: String? = nil, at: Date = Date()) {
        if stages.last?.stage == stage { return }
        self.stage = stage
        progress = max(progress, stage.progress)
        stages.append(StageEntry(stage: stage, at: Timestamp.string(at), note: note))
    }
}
