// Job: the schema-1 job file (docs/PROTOCOL.md) as a value. Reading validates every field
// with a message a person can act on; writing keeps every field we do not know.

public struct JobOptions: Sendable, Equatable {
    public var quality: Quality
    public var format: VideoFormat
    public var maxDurationS: Int
    /// How many scenes: nil for `auto` (the planner decides), or 1 to 8 (1: one scene, no lesson).
    public var scenes: Int?
    /// Whether a lesson is narrated (`on` by default for lessons).
    public var narration: Bool
    public var language: String
    public var voice: String?
    public init(quality: Quality = .low, format: VideoFormat = .mp4, maxDurationS: Int = 30, scenes: Int? = nil,
                narration: Bool = true, language: String = "en", voice: String? = nil) {
        self.quality = quality; self.format = format; self.maxDurationS = maxDurationS
        self.scenes = scenes; self.narration = narration; self.language = language; self.voice = voice
    }
    public static let known = ["quality", "format", "max_duration_s", "scenes", "narration", "language", "voice"]

    var json: JSONValue {
        var o: JSONObject = ["quality": .string(quality.rawValue), "format": .string(format.rawValue),
                             "max_duration_s": .int(Int64(maxDurationS)), "scenes": scenes.map { .int(Int64($0)) } ?? .string("auto"),
                             "narration": .string(narration ? "on" : "off"), "language": .string(language)]
        if let voice { o["voice"] = .string(voice) }
        return .object(o)
    }
}

public struct JobOrigin: Sendable, Equatable {
    public var channel: Channel
    public var chatID: String?
    public var sessionID: String?
    public var messageID: String?
    public var extra: JSONObject = [:]
    public init(channel: Channel, chatID: String? = nil, sessionID: String? = nil, messageID: String? = nil) {
        self.channel = channel; self.chatID = chatID; self.sessionID = sessionID; self.messageID = messageID
    }
}

public struct HistoryEntry: Sendable, Equatable {
    public var at: String
    public var status: String
    public var by: String
    public var note: String?
    public init(at: String = Timestamp.string(), status: String, by: String, note: String? = nil) {
        self.at = at; self.status = status; self.by = by; self.note = note
    }
}

public struct JobError: Sendable, Equatable, Error {
    public var stage: String
    public var code: String
    public var message: String
    public init(stage: String, code: String, message: String) {
        self.stage = stage; self.code = code; self.message = message
    }
}

public struct Job: Sendable, Equatable {
    public static let schema = 1
    public static let problemLength = 10...5_000
    public static let maxCodeBytes = 50 * 1024
    public static let durationRange = 1...300

    public var id: String
    public var createdAt: String
    public var kind: JobKind
    public var problem: String?
    public var code: String?
    public var options: JobOptions
    public var origin: JobOrigin
    public var status: JobStatus
    public var progress: Int
    /// Where the job is going: the directory of its next place, relative to the spool root.
    public var next: String?
    public var attempts: [String: Int]
    /// Times a worker died holding the job, per stage (recovery counts them); under
    /// `<stage>_alone`, those of them while it ran alone, the only ones that fail it.
    public var crashes: [String: Int]
    public var history: [HistoryEntry]
    public var codegen: CodegenRecord?
    public var render: RenderRecord?
    public var delivery: DeliveryRecord?
    public var error: JobError?
    /// A lesson's version: 1, or its parent's + 1 for an edit (`parent_id`).
    public var version: Int
    public var parentID: String?
    /// The lesson's stage (nil until a stage sets one) and every stage reached.
    public var stage: LessonStage?
    public var stages: [StageEntry]
    /// Whether a scene was replaced by its slate (`plan.scenes[n].error` says why).
    public var degraded: Bool
    public var plan: LessonPlan?
    /// How render narrated the lesson (SPEC §9), when it did.
    public var narration: NarrationRecord?
    /// Top-level fields this version does not know, written back as they came.
    public var extra: JSONObject

    public init(id: String = JobID.make(), createdAt: String = Timestamp.string(), kind: JobKind,
                problem: String? = nil, code: String? = nil, options: JobOptions = JobOptions(),
                origin: JobOrigin, status: JobStatus = .queued) {
        self.id = id; self.createdAt = createdAt; self.kind = kind; self.problem = problem; self.code = code
        self.options = options; self.origin = origin; self.status = status
        self.progress = status.progress ?? 0
        self.next = nil; self.attempts = [:]; self.crashes = [:]; self.history = []
        self.codegen = nil; self.render = nil; self.delivery = nil; self.error = nil; self.extra = [:]
        self.version = 1; self.parentID = nil; self.stage = nil; self.stages = []; self.degraded = false; self.plan = nil
        self.narration = nil
    }

    /// Moves the job to a status, sets its progress and appends the history entry.
    public mutating func record(_ status: JobStatus, by: String, note: String? = nil, at: Date = Date()) {
        self.status = status
        if let p = status.progress { progress = p }
        history.append(HistoryEntry(at: Timestamp.string(at), status: status.rawValue, by: by, note: note))
        // A job's first queueing is its lesson stage's start.
        if status == .queued, stages.isEmpty { reach(.initializing, at: at) }
    }

    public var createdDate: Date? { Timestamp.parse(createdAt) }
}

// MARK: - Writing

extension Job {
    public var jsonObject: JSONObject {
        var o = extra
        o["schema"] = .int(Int64(Job.schema))
        o["id"] = .string(id)
        o["created_at"] = .string(createdAt)
        o["kind"] = .string(kind.rawValue)
        o["problem"] = problem.map(JSONValue.string) ?? .null
        o["code"] = code.map(JSONValue.string) ?? .null
        o["options"] = options.json
        var origin = self.origin.extra
        origin["channel"] = .string(self.origin.channel.rawValue)
        if let v = self.origin.chatID { origin["chat_id"] = .string(v) }
        if let v = self.origin.sessionID { origin["session_id"] = .string(v) }
        if let v = self.origin.messageID { origin["message_id"] = .string(v) }
        o["origin"] = .object(origin)
        o["status"] = .string(status.rawValue)
        o["progress"] = .int(Int64(progress))
        o["next"] = next.map(JSONValue.string) ?? .null
        o["attempts"] = .object(attempts.mapValues { .int(Int64($0)) })
        if !crashes.isEmpty { o["crashes"] = .object(crashes.mapValues { .int(Int64($0)) }) }
        o["history"] = .array(history.map { h in
            var e: JSONObject = ["at": .string(h.at), "status": .string(h.status), "by": .string(h.by)]
            if let n = h.note { e["note"] = .string(n) }
            return .object(e)
        })
        if let r = codegen { o["codegen"] = .object(r.json) }
        if let r = render { o["render"] = .object(r.json) }
        if let r = delivery { o["delivery"] = .object(r.json) }
        o["version"] = .int(Int64(version))
        o["parent_id"] = parentID.map(JSONValue.string) ?? .null
        if let stage {
            o["stage"] = .string(stage.rawValue)
            o["stages"] = .array(stages.map(\.json))
        }
        if degraded { o["degraded"] = .bool(true) }
        if let plan { o["plan"] = plan.json }
        if let r = narration { o["narration"] = .object(r.json) }
        if let e = error {
            o["error"] = .object(["stage": .string(e.stage), "code": .string(e.code), "message": .string(e.message)])
        } else {
            o["error"] = .null
        }
        return o
    }

    public func encoded() -> [UInt8] { JSONValue.object(jsonObject).serialized() }
}
