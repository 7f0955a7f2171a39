// Intake: the one way new work enters from the web side, whatever the channel.
// A retried update is found by its key before anything else (its job id is
// derived from the key, so even a crash between publish and bookkeeping finds
// it), then the rate limits (person, address, new sessions, everyone), then back-pressure, then validation; the
// job is published durably before the caller may answer 2xx.
import Logging
import MathreelCore
import MathreelSessions
import MathreelSpool
import MathreelSystem

/// New work as a channel hands it over.
public struct Submission: Sendable {
    public var person: Person
    public var channel: Channel
    public var kind: JobKind
    public var text: String
    public var options: JSONValue?
    public var chatID: String?
    public var messageID: String?
    public var sessionID: String?
    public var correlationID: String?
    /// The platform's own id for this delivery (an update id, a message id): a retry makes no second job.
    public var dedupeKey: String?
    /// The client's address as its limits count it (web and unsigned API only), and
    /// whether this submission opens a session the server has not seen.
    public var address: String?
    public var newSession = false

    public init(person: Person, channel: Channel, kind: JobKind, text: String) {
        self.person = person; self.channel = channel; self.kind = kind; self.text = text
    }
}

public struct Intake: Sendable {
    let spool: Spool
    let sessions: SessionStore
    let admission: Admission
    let pressure: BackPressure
    let config: Config
    let salt: String
    let logger: Logger

    public init(spool: Spool, sessions: SessionStore, config: Config, logger: Logger) throws {
        self.spool = spool; self.sessions = sessions; self.config = config; self.logger = logger
        admission = Admission(config: config)
        pressure = BackPressure(spool: spool, bound: config.maxQueued)
        salt = try sessions.salt()
    }

    /// The job made for an update already taken, if it still exists.
    func earlier(_ key: String?) -> Job? {
        guard let key else { return nil }
        let id = JobID.derived(from: salt + key)
        if let found = spool.find(id), let job = found.job { return job }
        return nil
    }

    /// Accepts the submission: the job (new, or the one an earlier delivery made) once it is durable.
    public func submit(_ s: Submission) async throws(Refusal) -> (job: Job, duplicate: Bool) {
        if let job = earlier(s.dedupeKey) { return (job, true) }
        if let refusal = admission.admit(s) { throw refusal }
        if let refusal = pressure.check() { throw refusal }
        if s.kind == .code && !config.directCode {
            throw Refusal(status: 403, code: ErrorCode.codeRejected, message: FileIngest.directCodeOff)
        }
        let id = s.dedupeKey.map { JobID.derived(from: salt + $0) } ?? JobID.make()
        var o: JSONObject = [s.kind == .problem ? "problem" : "code": .string(s.text)]
        if let options = s.options { o["options"] = options }
        var job: Job
        do { job = try Job.read(o, intake: JobIntake(id: id, channel: s.channel, defaultQuality: config.defaultQuality)) } catch let invalid as JobInvalid {
            throw Refusal(status: 400, code: "invalid_job", message: Intake.sentence(invalid.problems))
        } catch {
            throw Refusal(status: 400, code: "invalid_job", message: "\(error)")
        }
        job.origin.chatID = s.chatID
        job.origin.messageID = s.messageID
        job.origin.sessionID = s.sessionID
        if let c = s.correlationID { job.origin.extra["correlation_id"] = .string(c) }
        if s.kind == .problem, let context = followUpContext(s) { job.followUpContext = context }
        job.record(.queued, by: "ingest", note: "accepted from \(s.channel.rawValue)")
        return try await publish(job, s)
    }

    /// A new version of lesson `parent` with scene `n` changed as `s.text` asks: the same
    /// limits as any submission, then the job Spool.makeEdit made, published the same way.
    public func submitEdit(_ s: Submission, parent: String, scene n: Int) async throws(Refusal) -> (job: Job, duplicate: Bool) {
        if let job = earlier(s.dedupeKey) { return (job, true) }
        if let refusal = admission.admit(s) { throw refusal }
        if let refusal = pressure.check() { throw refusal }
        var origin = JobOrigin(channel: s.channel, chatID: s.chatID, sessionID: s.sessionID, messageID: s.messageID)
        if let c = s.correlationID { origin.extra["correlation_id"] = .string(c) }
        let job: Job
        let id = s.dedupeKey.map { JobID.derived(from: salt + $0) } ?? JobID.make()
        do { job = try spool.makeEdit(of: parent, scene: n, prompt: s.text, origin: origin, by: "ingest", id: id) } catch let e as EditRefusal {
            throw Refusal(status: e.status, code: e.code, message: e.message)
        } catch {
            logger.error("could not make an edit", metadata: ["parent_id": "\(parent)", "error": "\(error)"])
            throw Refusal(status: 503, code: "spool_unavailable", message: "The edit could not be stored just now. Try again in a minute.", retryAfter: 60)
        }
        do { return try await publish(job, s, summary: "scene \(n) of \(parent.prefix(8)): \(s.text)") } catch {
            _ = spool.removeArtifacts(job.id)
            throw error
        }
    }

    /// Records the job in its person's session, then publishes it to its stage's queue.
    func publish(_ job: Job, _ s: Submission, summary: String? = nil) async throws(Refusal) -> (job: Job, duplicate: Bool) {
        let id = job.id
        let place: Place = job.kind == .problem ? .codegen : .render
        let ready = job
        // The session's row first: a job its person could never reach (a full or broken
        // state disk) is refused before it is accepted, not published unowned.
        do {
            try sessions.record(s.person, job: SessionJob(jobID: id, createdAt: Date().timeIntervalSince1970, kind: job.kind.rawValue,
                                                          summary: (summary ?? s.text).clipped(to: 1000)), key: s.dedupeKey)
        } catch {
            logger.error("could not record a job in its session; refused", metadata: ["job_id": "\(id)", "error": "\(error)"])
            throw Refusal(status: 503, code: "state_unavailable",
                          message: "The job could not be recorded just now, so it was not accepted. Try again in a minute.", retryAfter: 60)
        }
        do {
            try await BlockingIO.run { try spool.submit(ready, to: place) }
        } catch {
            // A concurrent delivery of the same update published it first.
            if let job = earlier(s.dedupeKey) { return (job, true) }
            try? sessions.unrecord(s.person, jobID: id)
            if let full = error as? DiskFull { throw Refusal(status: 503, code: "disk_full", message: full.message, retryAfter: 300) }
            logger.error("could not publish a job", metadata: ["job_id": "\(id)", "error": "\(error)"])
            throw Refusal(status: 503, code: "spool_unavailable", message: "The job could not be stored just now. Try again in a minute.", retryAfter: 60)
        }
        var meta: Logger.Metadata = ["job_id": "\(id)", "channel": "\(s.channel.rawValue)", "next": "\(place.path)"]
        if let c = s.correlationID { meta["correlation_id"] = "\(c)" }
        logger.info("job accepted", metadata: meta)
        return (job, false)
    }

    /// The previous problem, when this one reads as a follow-up to it ("now with 3
    /// instead of 5", "and the derivative?").
    func followUpContext(_ s: Submission) -> String? {
        guard let previous = try? sessions.history(s.person, limit: 5).first(where: { $0.kind == JobKind.problem.rawValue }) else { return nil }
        return FollowUp.isFollowUp(s.text) ? previous.summary : nil
    }

    static func sentence(_ problems: [String]) -> String {
        let text = problems.joined(separator: "; ")
        return text.prefix(1).uppercased() + text.dropFirst() + (text.hasSuffix(".") ? "" : ".")
    }
}

enum FollowUp {
    static let openers = ["now ", "and ", "what about", "how about", "also ", "then ", "instead", "same ", "again", "but ", "what if", "do it", "plot it", "now,"]

    /// Short messages that lean on what came before.
    static func isFollowUp(_ text: String) -> Bool {
        let t = text.trimmed().lowercased()
        if openers.contains(where: { t.hasPrefix($0) }) { return true }
        if t.contains(" instead of ") { return true }
        let words = t.split(whereSeparator: { !$0.isLetter }).map(String.init)
        return words.count <= 8 && words.contains(where: { ["it", "that", "this", "same", "previous"].contains($0) })
    }
}
