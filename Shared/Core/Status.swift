// The job's vocabulary: statuses with their progress, error codes, channels and
// the places a job can be. One table, read by every stage and by the command.

public enum JobStatus: String, Sendable, CaseIterable, Codable {
    case queued, ai_generating, code_validating, rendering, uploading, ready, delivered, failed, expired

    /// docs/PROTOCOL.md: the progress number that goes with each status (nil: keep the last one).
    public var progress: Int? {
        switch self {
        case .queued: 5
        case .ai_generating: 50
        case .code_validating: 60
        case .rendering: 80
        case .uploading: 95
        case .ready, .delivered: 100
        case .failed, .expired: nil
        }
    }
    public var isFinal: Bool { self == .delivered || self == .failed || self == .expired }
}

/// Stable snake_case error codes (docs/PROTOCOL.md). The message beside one is for the person.
public enum ErrorCode {
    public static let invalidJob = "invalid_job"
    public static let codeRejected = "code_rejected"
    public static let renderFailed = "render_failed"
    public static let renderTimeout = "render_timeout"
    public static let memoryLimit = "memory_limit"
    public static let tooLong = "too_long"
    public static let providersExhausted = "providers_exhausted"
    public static let unsupportedProblem = "unsupported_problem"
    public static let rateLimited = "rate_limited"
    public static let crashedWorker = "crashed_worker"
    public static let expired = "expired"
    public static let cancelled = "cancelled"
    /// An edit the built-in editor does not understand, with no model configured.
    public static let editNeedsModel = "edit_needs_model"
    /// An edit of a scene the job does not have (or of a job that is not a lesson).
    public static let noSuchScene = "no_such_scene"
    /// A model's scene rendered with text off the frame or on other text (sent back for repair, never a failure).
    public static let layoutDefect = "layout_defect"
}

public enum Channel: String, Sendable, CaseIterable {
    case telegram, whatsapp, web, api, file
}

public enum JobKind: String, Sendable, CaseIterable {
    case problem, code
}

public enum Quality: String, Sendable, CaseIterable {
    case low, medium, high
}

public enum VideoFormat: String, Sendable, CaseIterable {
    case mp4, webm
}

/// A stage of the pipeline: a daemon that consumes one queue directory.
public enum Stage: String, Sendable, CaseIterable, Hashable {
    case ingest, codegen, render, deliver
    /// The queue directory the stage consumes.
    public var queue: String { self == .ingest ? "incoming" : rawValue }
}
