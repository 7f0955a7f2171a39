// StageRecords: what one stage writes into the job for another, typed once here
// so that no service reads another's record by string key. A record keeps the
// object as it was written (`json`), so fields this build does not know survive
// an older reader; its typed properties are how services read and write it, and
// `problems` says in plain words which known field a hand-made file got wrong.
// Room is left for a lesson's plan and scenes: each is one more field here.

/// What a known field of a stage record must be.
public enum RecordField: Sendable {
    case text, number, flag, object, list
    /// A counter (`repairs`, `attempts`): any number, read saturating and never below 0.
    case count

    func admits(_ v: JSONValue) -> Bool {
        switch (self, v) {
        case (.text, .string), (.flag, .bool), (.object, .object), (.list, .array),
             (.number, .int), (.number, .double), (.count, .int), (.count, .double): true
        default: false
        }
    }

    var words: String {
        switch self {
        case .text: "text"
        case .number, .count: "a number"
        case .flag: "true or false"
        case .object: "an object"
        case .list: "a list"
        }
    }
}

/// A stage's record in the job file (`codegen`, `render`, `delivery`).
public protocol StageRecord: Sendable, Equatable, ExpressibleByDictionaryLiteral
where Key == String, Value == JSONValue {
    /// The record as written, unknown fields included.
    var json: JSONObject { get set }
    init(json: JSONObject)
    /// The fields this build knows, and what each must be.
    static var fields: [(String, RecordField)] { get }
}

extension StageRecord {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(json: JSONObject(elements, uniquingKeysWith: { $1 }))
    }

    /// Each known field that is present (not null) but not what it must be, by its path.
    public func problems(at section: String) -> [String] {
        Self.fields.compactMap { key, kind in
            guard let v = json[key], !v.isNull, !kind.admits(v) else { return nil }
            return "`\(section).\(key)` must be \(kind.words); got \(v.typeName)"
        }
    }

    func text(_ key: String) -> String? { json[key]?.stringValue }
    func number(_ key: String) -> Double? { json[key]?.doubleValue }
    func whole(_ key: String) -> Int64? { json[key]?.intValue.map(Int64.init) }
    func flag(_ key: String) -> Bool? { if case .bool(let b)? = json[key] { b } else { nil } }
    mutating func put(_ key: String, _ value: JSONValue?) { json[key] = value }
}

/// Render's request to codegen when a model's code failed to render (`codegen.repair`).
public struct RepairRequest: Sendable, Equatable {
    /// The render's error code (`render_failed`, `render_timeout`, ...).
    public var errorCode: String
    /// The render's error, in the words the person would have been told.
    public var error: String
    /// The end of the render's log (at most 3,000 characters).
    public var logTail: String
    /// The code that failed.
    public var code: String
    /// Fields this build does not know.
    public var unknown: JSONObject = [:]

    public init(errorCode: String, error: String, logTail: String, code: String) {
        self.errorCode = errorCode; self.error = error; self.logTail = logTail; self.code = code
    }

    static let known = ["error_code", "error", "log_tail", "code"]

    /// Reads one from the job file; a missing text field reads as the stage would have had it.
    public init?(_ value: JSONValue?) {
        guard case .object(let o)? = value else { return nil }
        errorCode = o["error_code"]?.stringValue ?? ErrorCode.renderFailed
        error = o["error"]?.stringValue ?? "The animation could not be rendered."
        logTail = o["log_tail"]?.stringValue ?? ""
        code = o["code"]?.stringValue ?? ""
        unknown = o.filter { !RepairRequest.known.contains($0.key) }
    }

    public var json: JSONValue {
        .object(unknown.merging(["error_code": .string(errorCode), "error": .string(error), "log_tail": .string(logTail),
                                 "code": .string(code)]) { $1 })
    }
}


/// One try at one provider, as codegen's record keeps it (`codegen.calls`).
public struct ProviderCall: Sendable, Equatable {
    public var provider: String
    public var outcome: String
    public var seconds: Double
    public init(provider: String, outcome: String, seconds: Double) {
        self.provider = provider; self.outcome = outcome; self.seconds = seconds
    }
    public init?(_ v: JSONValue) {
        guard let o = v.objectValue, let p = o["provider"]?.stringValue, let out = o["outcome"]?.stringValue else { return nil }
        self.init(provider: p, outcome: out, seconds: o["seconds"]?.doubleValue ?? 0)
    }
    public var json: JSONValue { .object(["provider": .string(provider), "outcome": .string(outcome), "seconds": .double(seconds)]) }
}

/// What codegen wrote (`codegen`): who wrote the code, the verified answer, the tries.
public struct CodegenRecord: StageRecord {
    public var json: JSONObject
    public init(json: JSONObject = [:]) { self.json = json }
    public static let fields: [(String, RecordField)] = [
        ("provider", .text), ("model", .text), ("answer", .text), ("family", .text), ("attempts", .count),
        ("repairs", .count), ("repair", .object), ("calls", .list), ("timings", .object), ("readings", .object),
    ]

    /// The provider that wrote the code (`offline` for the built-in solver).
    public var provider: String? { get { text("provider") } set { put("provider", newValue.map(JSONValue.string)) } }
    public var model: String? { get { text("model") } set { put("model", newValue.map(JSONValue.string)) } }
    /// The answer the offline solver verified, which the status and the watch page show.
    public var answer: String? { get { text("answer") } set { put("answer", newValue.map(JSONValue.string) ?? .null) } }
    /// The offline solver's problem family.
    public var family: String? { get { text("family") } set { put("family", newValue.map(JSONValue.string)) } }
    /// Code attempts kept in artifacts/<id>/attempt-N.py.
    public var attempts: Int { get { Job.counter(json["attempts"]) } set { put("attempts", .int(Int64(newValue))) } }
    /// Repairs asked for so far, read saturating and never below 0: a dropped file's
    /// -1000000 must not buy endless repairs.
    public var repairs: Int { get { Job.counter(json["repairs"]) } set { put("repairs", .int(Int64(newValue))) } }
    /// The repair render asked for and codegen has not yet made.
    public var repair: RepairRequest? { get { RepairRequest(json["repair"]) } set { put("repair", newValue?.json) } }
    public var calls: [ProviderCall] {
        get { json["calls"]?.arrayValue?.compactMap(ProviderCall.init) ?? [] }
        set { put("calls", .array(newValue.map(\.json))) }
    }
    /// How the offline answer was confirmed before any lesson stated it.
    public var readings: Readings? { get { Readings(json["readings"]) } set { put("readings", newValue?.json) } }
    /// Seconds from claim to code.
    public var totalSeconds: Double? {
        get { json["timings"]?.objectValue?["total_s"]?.doubleValue }
        set { put("timings", newValue.map { .object(["total_s": .double($0)]) }) }
    }
}

/// How many independent readings of a problem agreed on its answer (`codegen.readings`): the
/// solver's family and its second parser, and a helper model's when MATHREEL_HELPER_MODEL is set.
public struct Readings: Sendable, Equatable {
    /// Readings that agreed (0 when they did not).
    public var count: Int
    /// How the solver's second reading read the problem.
    public var second: String?
    /// The helper model (`provider:model`), its restatement, and how that went:
    /// `agrees`, `disagrees`, `not_comparable`, or `unavailable: <why>`.
    public var helper: String?, restated: String?, outcome: String?

    public init(count: Int, second: String? = nil, helper: String? = nil, restated: String? = nil, outcome: String? = nil) {
        self.count = count; self.second = second; self.helper = helper; self.restated = restated; self.outcome = outcome
    }

    public init?(_ value: JSONValue?) {
        guard case .object(let o)? = value else { return nil }
        count = Job.counter(o["count"])
        second = o["second"]?.stringValue; helper = o["helper"]?.stringValue
        restated = o["restated"]?.stringValue; outcome = o["outcome"]?.stringValue
    }

    public var json: JSONValue {
        var o: JSONObject = ["count": .int(Int64(count))]
        for (k, v) in [("second", second), ("helper", helper), ("restated", restated), ("outcome", outcome)] { if let v { o[k] = .string(v) } }
        return .object(o)
    }
}

/// Where the render stage's time went (`render.timings`), in seconds.
public struct RenderTimings: Sendable, Equatable {
    public var check: Double?, sandbox: Double?, post: Double?, store: Double?, total: Double?
    public init(check: Double? = nil, sandbox: Double? = nil, post: Double? = nil, store: Double? = nil, total: Double? = nil) {
        self.check = check; self.sandbox = sandbox; self.post = post; self.store = store; self.total = total
    }
    static let keys = ["check_s", "sandbox_s", "post_s", "store_s", "total_s"]
    var values: [Double?] { [check, sandbox, post, store, total] }
    init(_ o: JSONObject) {
        let v = RenderTimings.keys.map { o[$0]?.doubleValue }
        self.init(check: v[0], sandbox: v[1], post: v[2], store: v[3], total: v[4])
    }
    var json: JSONValue {
        .object(JSONObject(uniqueKeysWithValues: zip(RenderTimings.keys, values).compactMap { k, v in v.map { (k, .double($0)) } }))
    }
}

/// What render wrote (`render`): the video it made or served from the cache, and how.
public struct RenderRecord: StageRecord {
    public var json: JSONObject
    public init(json: JSONObject = [:]) { self.json = json }
    public static let fields: [(String, RecordField)] = [
        ("video", .text), ("thumbnail", .text), ("duration_s", .number), ("bytes", .number), ("width", .number),
        ("height", .number), ("fps", .number), ("cache_hit", .flag), ("render_s", .number), ("scene", .text), ("timings", .object),
        ("layout", .list),
    ]

    /// The video, relative to the spool root (`artifacts/<id>/video.mp4`).
    public var video: String? { get { text("video") } set { put("video", newValue.map(JSONValue.string)) } }
    public var thumbnail: String? { get { text("thumbnail") } set { put("thumbnail", newValue.map(JSONValue.string)) } }
    public var durationS: Double? { get { number("duration_s") } set { put("duration_s", newValue.map(JSONValue.double)) } }
    public var bytes: Int64? { get { whole("bytes") } set { put("bytes", newValue.map(JSONValue.int)) } }
    public var width: Int64? { get { whole("width") } set { put("width", newValue.map(JSONValue.int)) } }
    public var height: Int64? { get { whole("height") } set { put("height", newValue.map(JSONValue.int)) } }
    public var fps: Double? { get { number("fps") } set { put("fps", newValue.map(JSONValue.double)) } }
    /// Whether the files came from the render cache.
    public var cacheHit: Bool { get { flag("cache_hit") ?? false } set { put("cache_hit", .bool(newValue)) } }
    /// The scene's own render time in its sandbox.
    public var renderS: Double? { get { number("render_s") } set { put("render_s", newValue.map(JSONValue.double) ?? .null) } }
    /// The Scene class rendered.
    public var scene: String? { get { text("scene") } set { put("scene", newValue.map(JSONValue.string)) } }
    /// What the render's layout check found: text leaving the frame or lying on other text.
    public var layout: [JSONValue] { get { json["layout"]?.arrayValue ?? [] } set { put("layout", .array(newValue)) } }
    public var timings: RenderTimings {
        get { RenderTimings(json["timings"]?.objectValue ?? [:]) }
        set { put("timings", newValue.json) }
    }
}

/// What deliver wrote (`delivery`): the one-time link and the stored video.
public struct DeliveryRecord: StageRecord {
    public var json: JSONObject
    public init(json: JSONObject = [:]) { self.json = json }
    public static let fields: [(String, RecordField)] = [("url", .text), ("expires_at", .text), ("path", .text), ("bytes", .number)]

    /// The watch page's one-time link.
    public var url: String? { get { text("url") } set { put("url", newValue.map(JSONValue.string)) } }
    /// When the link expires if unused (RFC 3339).
    public var expiresAt: String? { get { text("expires_at") } set { put("expires_at", newValue.map(JSONValue.string)) } }
    /// The stored video's path under the state directory.
    public var path: String? { get { text("path") } set { put("path", newValue.map(JSONValue.string)) } }
    public var bytes: Int64? { get { whole("bytes") } set { put("bytes", newValue.map(JSONValue.int)) } }
}

extension Job {
    /// The repair render asked for and codegen has not yet made (`codegen.repair`).
    public var repairRequest: RepairRequest? {
        get { codegen?.repair }
        set {
            var c = codegen ?? CodegenRecord()
            c.repair = newValue
            codegen = c
        }
    }

    /// Repairs asked for so far (`codegen.repairs`), read saturating and never below 0.
    public var repairs: Int {
        get { codegen?.repairs ?? 0 }
        set {
            var c = codegen ?? CodegenRecord()
            c.repairs = newValue
            codegen = c
        }
    }

    /// The earlier problem of a chat follow-up, which codegen tells the model (`context`).
    public var followUpContext: String? {
        get { extra["context"]?.stringValue }
        set { extra["context"] = newValue.map { .string($0) } }
    }

    /// The Scene class a person asked to render (`scene`), when the code has several.
    public var sceneName: String? { extra["scene"]?.stringValue }

    /// The answer codegen verified (`codegen.answer`), which the status and the watch page show.
    public var answer: String? { codegen?.answer }

    /// The one-time link deliver issued (`delivery.url`), and when it expires unused.
    public var linkURL: String? { delivery?.url }
    public var linkExpiresAt: String? { delivery?.expiresAt }
}

/// How a lesson was narrated (`narration`, render's record): the voice that spoke it, in
/// which language, how long the speech lasts, and a note when it is not what was asked.
public struct NarrationRecord: StageRecord {
    public var json: JSONObject
    public init(json: JSONObject = [:]) { self.json = json }
    public static let fields: [(String, RecordField)] = [
        ("engine", .text), ("voice", .text), ("language", .text), ("duration_s", .number), ("sentences", .count),
        ("cached", .count), ("speak_s", .number), ("note", .text), ("tried", .list),
    ]

    public var engine: String? { get { text("engine") } set { put("engine", newValue.map(JSONValue.string)) } }
    public var voice: String? { get { text("voice") } set { put("voice", newValue.map(JSONValue.string)) } }
    /// The language spoken (English when the one asked for has no installed voice: `note` says so).
    public var language: String? { get { text("language") } set { put("language", newValue.map(JSONValue.string)) } }
    /// Seconds of speech in the lesson.
    public var durationS: Double? { get { number("duration_s") } set { put("duration_s", newValue.map(JSONValue.double)) } }
    public var sentences: Int { get { Job.counter(json["sentences"]) } set { put("sentences", .int(Int64(newValue))) } }
    /// Sentences served from the speech cache.
    public var cached: Int { get { Job.counter(json["cached"]) } set { put("cached", .int(Int64(newValue))) } }
    /// Wall seconds spent speaking (0 when every sentence was cached).
    public var speakS: Double? { get { number("speak_s") } set { put("speak_s", newValue.map(JSONValue.double)) } }
    public var note: String? { get { text("note") } set { put("note", newValue.map(JSONValue.string)) } }
    /// Engines that failed before this one, with why (`["piper: ..."]`).
    public var tried: [String] {
        get { json["tried"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        set { put("tried", newValue.isEmpty ? nil : .array(newValue.map(JSONValue.string))) }
    }
}
