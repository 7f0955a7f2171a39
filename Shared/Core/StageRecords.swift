// StageRecords: what one stage writes into the job for another, typed once here
// so that no service reads another's record by string key. Each keeps the fields
// it does not know, so a newer writer's additions survive an older reader.

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

extension Job {
    /// The repair render asked for and codegen has not yet made (`codegen.repair`).
    public var repairRequest: RepairRequest? {
        get { RepairRequest(codegen?["repair"]) }
        set {
            var c = codegen ?? [:]
            c["repair"] = newValue?.json
            codegen = c
        }
    }

    /// Repairs asked for so far (`codegen.repairs`), read saturating and never below 0.
    public var repairs: Int {
        get { Job.counter(codegen?["repairs"]) }
        set {
            var c = codegen ?? [:]
            c["repairs"] = .int(Int64(newValue))
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
    public var answer: String? { codegen?["answer"]?.stringValue }

    /// The one-time link deliver issued (`delivery.url`), and when it expires unused.
    public var linkURL: String? { delivery?["url"]?.stringValue }
    public var linkExpiresAt: String? { delivery?["expires_at"]?.stringValue }
}
