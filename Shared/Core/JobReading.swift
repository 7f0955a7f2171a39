// Reading a job file: strict for files a stage wrote, filling-in for what a
// person dropped. Every problem is collected and said in plain words, with the
// field's path, what it must be, and what it was.

public struct JobInvalid: Error, CustomStringConvertible, Sendable {
    public var problems: [String]
    public init(_ problems: [String]) { self.problems = problems }
    public var description: String { problems.joined(separator: "; ") }
}

/// What ingest fills in for a job that a person wrote.
public struct JobIntake: Sendable {
    public var id: String
    public var channel: Channel
    public var defaultQuality: Quality
    public var now: Date
    public init(id: String, channel: Channel = .file, defaultQuality: Quality = .low, now: Date = Date()) {
        self.id = id; self.channel = channel; self.defaultQuality = defaultQuality; self.now = now
    }
}

extension Job {
    /// The largest job file any stage reads; larger ones are refused unread.
    public static let maxFileBytes = 1 << 20

    /// Reads a job file that a stage wrote: every required field must be present and valid.
    public static func decode(_ bytes: some Collection<UInt8>) throws -> Job {
        guard case .object(let o) = try JSONValue.parse(bytes) else {
            throw JobInvalid(["the file holds JSON but not an object: a job file is one {...} object"])
        }
        return try read(o, intake: nil)
    }

    /// Reads a job a person wrote (`{"problem": ...}` is enough) and fills in the rest.
    public static func intake(_ bytes: some Collection<UInt8>, _ intake: JobIntake) throws -> Job {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch let e as JSONParseError { throw JobInvalid([e.description]) }
        guard case .object(let o) = value else {
            throw JobInvalid(["the file holds \(value.typeName), not a JSON object: write {\"problem\": \"...\"} or {\"code\": \"...\"}"])
        }
        return try read(o, intake: intake)
    }

    public static func read(_ o: JSONObject, intake: JobIntake?) throws -> Job {
        var r = FieldReader(object: o)
        let job = r.readJob(intake: intake)
        if !r.problems.isEmpty || job == nil { throw JobInvalid(r.problems.isEmpty ? ["the job could not be read"] : r.problems) }
        return job!
    }
}

// Counters (attempts, crashes, codegen.repairs) come from files anyone may drop:
// they are read saturating at `counterLimit`, so no `+ 1` on one ever traps and
// no absurd value keeps a loop going.
extension Job {
    /// The most any counter reads as; far above every limit a stage applies.
    public static let counterLimit = 1_000_000

    /// A counter as a stage wrote it: a whole number of 0 or more, saturating at
    /// `counterLimit`; nil for anything else (negative, fractional, not a number).
    public static func count(_ value: JSONValue?) -> Int? {
        switch value {
        case .int(let i)?: return i < 0 ? nil : Int(min(i, Int64(counterLimit)))
        case .double(let d)?: return d >= 0 && d.rounded() == d ? (d >= Double(counterLimit) ? counterLimit : Int(d)) : nil
        default: return nil
        }
    }

    /// A counter read where refusing is no answer (recovery, repairs): anything
    /// that is not a count of 0 or more reads as 0.
    public static func counter(_ value: JSONValue?) -> Int { count(value) ?? 0 }

    /// One more than `n`, never past `counterLimit`.
    public static func raised(_ n: Int) -> Int { min(max(n, 0), counterLimit - 1) + 1 }
}

private struct FieldReader {
    let object: JSONObject
    var problems: [String] = []

    mutating func fail(_ s: String) { problems.append(s) }

    func present(_ key: String, in o: JSONObject) -> JSONValue? {
        guard let v = o[key], !v.isNull else { return nil }
        return v
    }

    mutating func string(_ key: String, path: String? = nil, in o: JSONObject) -> String? {
        guard let v = present(key, in: o) else { return nil }
        guard let s = v.stringValue else { fail("`\(path ?? key)` must be text; got \(v.typeName)"); return nil }
        return s
    }

    mutating func oneOf<E: RawRepresentable & CaseIterable>(_ key: String, path: String? = nil, in o: JSONObject, _: E.Type) -> E? where E.RawValue == String {
        guard let s = string(key, path: path, in: o) else { return nil }
        if let e = E(rawValue: s) { return e }
        let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
        fail("`\(path ?? key)` must be one of \(allowed); got \(JSONValue.string(s).excerpt)")
        return nil
    }

    mutating func counts(_ key: String, in o: JSONObject) -> [String: Int] {
        guard let v = present(key, in: o) else { return [:] }
        guard let obj = v.objectValue else { fail("`\(key)` must be an object of counts; got \(v.typeName)"); return [:] }
        var out: [String: Int] = [:]
        for (k, n) in obj {
            guard let i = Job.count(n) else { fail("`\(key).\(k)` must be a whole number of 0 or more; got \(n.excerpt)"); continue }
            out[k] = i
        }
        return out
    }

    mutating func section<R: StageRecord>(_ key: String, in o: JSONObject, as: R.Type) -> R? {
        guard let v = present(key, in: o) else { return nil }
        guard let obj = v.objectValue else { fail("`\(key)` must be an object; got \(v.typeName)"); return nil }
        let record = R(json: obj)
        problems += record.problems(at: key)
        return record
    }

    mutating func readJob(intake: JobIntake?) -> Job? {
        let o = object
        let known: Set<String> = ["schema", "id", "created_at", "kind", "problem", "code", "options", "origin",
                                  "status", "progress", "next", "attempts", "crashes", "history",
                                  "codegen", "render", "delivery", "error",
                                  "version", "parent_id", "stage", "stages", "degraded", "plan", "narration",
                                  // The worker loop's mark of a suspect's solo turn (Recovery): dropped on every write.
                                  "alone"]
        if let s = present("schema", in: o), s.intValue != Job.schema {
            fail("`schema` must be \(Job.schema); got \(s.excerpt)")
        }

        // id and created_at: a stage's file must carry them; ingest assigns them.
        var id = string("id", in: o)
        if let i = id, !JobID.isValid(i) { fail("`id` must be a UUID like 6ba7b810-9dad-41d1-80b4-00c04fd430c8; got \(JSONValue.string(i).excerpt)") }
        if let intake { id = intake.id } else if id == nil { fail("`id` is missing") }
        var createdAt = string("created_at", in: o)
        if let c = createdAt, Timestamp.parse(c) == nil { fail("`created_at` must be an ISO 8601 time like 2026-11-21T17:00:00Z; got \(JSONValue.string(c).excerpt)"); createdAt = nil }
        if createdAt == nil, let intake { createdAt = Timestamp.string(intake.now) }
        if createdAt == nil, intake == nil { fail("`created_at` is missing") }

        // kind, problem, code
        var problem = string("problem", in: o)
        let code = string("code", in: o)
        var kind = oneOf("kind", in: o, JobKind.self)
        if kind == nil, present("kind", in: o) == nil {
            switch (problem, code) {
            case (.some, .some): fail("give either `problem` or `code`, not both (or say which with `kind`)")
            case (.some, nil): kind = .problem
            case (nil, .some): kind = .code
            case (nil, nil):
                if problems.isEmpty { fail("the job has neither `problem` (the math problem as text) nor `code` (Manim source)") }
            }
        }
        switch kind {
        case .problem:
            if let p = problem {
                let trimmed = p.trimmed()
                let n = trimmed.count
                if n < Job.problemLength.lowerBound {
                    fail("`problem` is too short (\(n) characters); write the problem out in at least \(Job.problemLength.lowerBound) characters, e.g. \"Solve x^2 - 5x + 6 = 0\"")
                } else if n > Job.problemLength.upperBound {
                    fail("`problem` is too long (\(n) characters); at most \(Job.problemLength.upperBound) are accepted")
                }
                problem = trimmed
            } else if problems.isEmpty { fail("`kind` is problem but `problem` is missing") }
        case .code:
            if let c = code {
                let n = c.utf8.count
                if n > Job.maxCodeBytes { fail("`code` is too large (\(n / 1024) KB); Manim source may be at most 50 KB") }
                if c.trimmed().isEmpty { fail("`code` is empty") }
            } else if problems.isEmpty { fail("`kind` is code but `code` is missing") }
        case nil: break
        }

        // options
        var options = JobOptions(quality: intake?.defaultQuality ?? .low)
        if let ov = present("options", in: o) {
            if let opts = ov.objectValue {
                for k in opts.keys where !JobOptions.known.contains(k) {
                    fail("`options.\(k)` is not an option; the options are \(JobOptions.known.joined(separator: ", "))")
                }
                if let q = oneOf("quality", path: "options.quality", in: opts, Quality.self) { options.quality = q }
                if let f = oneOf("format", path: "options.format", in: opts, VideoFormat.self) { options.format = f }
                if let n = present("scenes", in: opts) {
                    if n == .string("auto") { options.scenes = nil }
                    else if let i = n.intValue, (1...Lesson.maxScenes).contains(i) { options.scenes = i }
                    else { fail("`options.scenes` must be \"auto\" or a whole number from 1 to \(Lesson.maxScenes); got \(n.excerpt)") }
                }
                if let v = present("narration", in: opts) {
                    switch v {
                    case .string("on"), .bool(true): options.narration = true
                    case .string("off"), .bool(false): options.narration = false
                    default: fail("`options.narration` must be \"on\" or \"off\"; got \(v.excerpt)")
                    }
                }
                if let l = string("language", path: "options.language", in: opts) {
                    if Lesson.isLanguageTag(l) { options.language = l }
                    else { fail("`options.language` must be a language tag like \"en\" or \"pt-BR\"; got \(JSONValue.string(l).excerpt)") }
                }
                if let v = string("voice", path: "options.voice", in: opts) {
                    if Lesson.isVoiceName(v) { options.voice = v }
                    else { fail("`options.voice` must be a voice name (letters, digits, `-`, `_`, `.`); got \(JSONValue.string(v).excerpt)") }
                }
                if let d = present("max_duration_s", in: opts) {
                    if let i = d.intValue, Job.durationRange.contains(i) { options.maxDurationS = i }
                    else { fail("`options.max_duration_s` must be a whole number of seconds from 1 to 300; got \(d.excerpt)") }
                }
            } else {
                fail("`options` must be an object like {\"quality\": \"low\"}; got \(ov.typeName)")
            }
        }

        // A lesson's scenes need more time than one scene: its own default at intake when none is given.
        if intake != nil, kind == .problem, options.scenes != 1, present("max_duration_s", in: present("options", in: o)?.objectValue ?? [:]) == nil {
            options.maxDurationS = Lesson.defaultDuration
        }

        // origin
        var origin = JobOrigin(channel: intake?.channel ?? .file)
        if let ov = present("origin", in: o) {
            if var obj = ov.objectValue {
                if let c = oneOf("channel", path: "origin.channel", in: obj, Channel.self) { origin.channel = c }
                else if intake == nil, present("channel", in: obj) == nil { fail("`origin.channel` is missing") }
                for (key, path) in [("chat_id", \JobOrigin.chatID), ("session_id", \.sessionID), ("message_id", \.messageID)] {
                    guard let v = present(key, in: obj) else { continue }
                    switch v {
                    case .string(let s): origin[keyPath: path] = s
                    case .int(let i): origin[keyPath: path] = String(i)
                    default: fail("`origin.\(key)` must be text; got \(v.typeName)")
                    }
                }
                for k in ["channel", "chat_id", "session_id", "message_id"] { obj[k] = nil }
                origin.extra = obj
            } else {
                fail("`origin` must be an object; got \(ov.typeName)")
            }
        } else if intake == nil {
            fail("`origin` is missing")
        }

        // status and progress: a person's file is always queued anew.
        var status = JobStatus.queued
        var progress = JobStatus.queued.progress!
        if intake == nil {
            if let s = oneOf("status", in: o, JobStatus.self) { status = s } else if present("status", in: o) == nil { fail("`status` is missing") }
            if let p = present("progress", in: o) {
                if let i = p.intValue, (0...100).contains(i) { progress = i } else { fail("`progress` must be a whole number from 0 to 100; got \(p.excerpt)") }
            }
        }

        let next = string("next", in: o)
        // A person's counters are never taken (see below), so never refused either.
        let attempts = intake == nil ? counts("attempts", in: o) : [:]
        let crashes = intake == nil ? counts("crashes", in: o) : [:]
        var history: [HistoryEntry] = []
        if let hv = present("history", in: o) {
            if case .array(let items) = hv {
                for (i, item) in items.enumerated() {
                    guard let e = item.objectValue, let at = e["at"]?.stringValue, let st = e["status"]?.stringValue,
                          let by = e["by"]?.stringValue else {
                        fail("`history[\(i)]` must be an object with `at`, `status` and `by`"); continue
                    }
                    history.append(HistoryEntry(at: at, status: st, by: by, note: e["note"]?.stringValue))
                }
            } else { fail("`history` must be a list; got \(hv.typeName)") }
        }
        let codegen = section("codegen", in: o, as: CodegenRecord.self)
        let render = section("render", in: o, as: RenderRecord.self)
        let delivery = section("delivery", in: o, as: DeliveryRecord.self)
        let narration = section("narration", in: o, as: NarrationRecord.self)
        // A lesson's own fields: the stages write them, like their records.
        let version = present("version", in: o).map { v -> Int in
            if let i = Job.count(v), i >= 1 { return i }
            fail("`version` must be a whole number of 1 or more; got \(v.excerpt)"); return 1
        } ?? 1
        let parentID = string("parent_id", in: o)
        if let p = parentID, !JobID.isValid(p) { fail("`parent_id` must be a job id; got \(JSONValue.string(p).excerpt)") }
        let stage = oneOf("stage", in: o, LessonStage.self)
        var stages: [StageEntry] = []
        if let sv = present("stages", in: o) {
            if let items = sv.arrayValue { stages = items.compactMap(StageEntry.init) } else { fail("`stages` must be a list; got \(sv.typeName)") }
        }
        var degraded = false
        if let d = present("degraded", in: o) {
            if case .bool(let b) = d { degraded = b } else { fail("`degraded` must be true or false; got \(d.typeName)") }
        }
        let plan = present("plan", in: o).flatMap { LessonPlan($0, problems: &problems) }
        var error: JobError?
        if let ev = present("error", in: o) {
            if let e = ev.objectValue, let code = e["code"]?.stringValue, let message = e["message"]?.stringValue {
                error = JobError(stage: e["stage"]?.stringValue ?? "", code: code, message: message)
            } else { fail("`error` must be an object with `code` and `message`") }
        }

        guard problems.isEmpty, let id, let createdAt, let kind else { return nil }
        var job = Job(id: id, createdAt: createdAt, kind: kind, problem: problem, code: code,
                      options: options, origin: origin, status: status)
        job.progress = progress
        job.history = history
        // What the stages record is theirs alone: a file a person drops (or a job queued
        // again) starts with no tries, no code, no render, no link and no error.
        if intake == nil {
            job.next = next
            job.attempts = attempts
            job.crashes = crashes
            job.codegen = codegen
            job.render = render
            job.delivery = delivery
            job.error = error
            job.version = version
            job.parentID = parentID
            job.stage = stage
            job.stages = stages
            job.degraded = degraded
            job.plan = plan
            job.narration = narration
        }
        job.extra = o.filter { !known.contains($0.key) }
        return job
    }
}
