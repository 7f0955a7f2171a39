// Deliverer: the deliver stage's step. It moves a rendered job's video (and its
// thumbnail and captions) from artifacts/ into the state's store, issues the
// job's one-time link, owes the person a notice and hands the job on to ready/.
import Logging
import MathreelCore
import MathreelSpool
import MathreelSystem

public struct Deliverer: Sendable {
    public let spool: Spool
    public let config: Config
    public let store: LinkStore
    public let logger: Logger
    /// `<state>/videos`, absolute: job files name it for `mathreel status`.
    public let videos: String
    /// Called after a notice is owed, to wake the messenger.
    public var onNoticeOwed: @Sendable () -> Void = {}

    public init(spool: Spool, config: Config, store: LinkStore, logger: Logger) {
        self.spool = spool; self.config = config; self.store = store; self.logger = logger
        videos = PlainFile.absolute(config.videosPath)
    }

    public func loop() -> WorkerLoop {
        WorkerLoop(spool: spool, stage: .deliver, concurrency: 2, logger: logger) { claim in try await self.step(claim) }
    }

    public func step(_ claim: Claim) async throws -> Outcome {
        var job: Job
        do { job = try claim.job() } catch { return .quarantine("not a job mathreel can read: \(error)") }
        job.record(.uploading, by: "deliver")
        job.reach(.storage)
        let ext = job.options.format.rawValue
        let stored = "\(job.id).\(ext)"
        let target = Deliverer.storedVideo(job, in: videos)
        if PlainFile.regularSize(target) == nil {
            // Paths come from the job's id, never from what its file says: a spool writer controls that.
            let source = try artifact(job.id, "video.\(ext)")
            guard PlainFile.regularSize(source) != nil else {
                return .fail(job, JobError(stage: Stage.deliver.rawValue, code: ErrorCode.renderFailed,
                                           message: "The finished video of this job could not be found, so there is nothing to send. Please send the problem again."))
            }
            guard PlainDirectory.makeIfMissing(videos) else { throw FileError("create \(videos)") }
            try PlainFile.move(source, to: target)
        }
        guard let bytes = PlainFile.regularSize(target) else { throw FileError("read \(target)") }
        // Thumbnail and captions are extras: a missing one costs the page a poster or a track, not the job.
        let poster = carry(try artifact(job.id, "thumbnail.jpg"), as: "\(job.id).jpg")
        let captions = carry(try artifact(job.id, "captions.vtt"), as: "\(job.id).vtt")

        let now = Date().timeIntervalSince1970
        let expires = now + config.lifetimes.ready
        let token = try store.issue(Link(
            jobID: job.id, video: stored, captions: captions, poster: poster,
            contentType: ext == "webm" ? "video/webm" : "video/mp4", bytes: bytes,
            problem: job.problem ?? "", answer: job.answer,
            expiresAt: expires), now: now)
        let url = config.publicURL + "/v/" + token.text
        var delivery = DeliveryRecord()
        delivery.url = url
        delivery.expiresAt = Timestamp.string(Date(timeIntervalSince1970: expires))
        delivery.path = target
        delivery.bytes = bytes
        job.delivery = delivery
        job.reach(.completed)
        job.record(.ready, by: "deliver", note: "one-time link issued; it expires in \(Lifetimes.words(config.lifetimes.ready)) if unused")
        // Owed before the hand-on: a crash in between repeats this step, whose key is the same.
        if try store.owe(key: Notices.key(job, .ready), jobID: job.id, kind: .ready) { onNoticeOwed() }
        logger.info("link issued", metadata: ["job_id": "\(job.id)", "bytes": "\(bytes)", "channel": "\(job.origin.channel.rawValue)",
                                               "expires_at": "\(Timestamp.string(Date(timeIntervalSince1970: expires)))"])
        return .handOn(job, to: .ready)
    }

    /// A file of the job's artifacts/<id>/ (the id is a UUID: job reading checked it).
    func artifact(_ id: String, _ name: String) throws -> String {
        try spool.artifacts(id).file(name)
    }

    /// Where the job's video is stored once delivered: from its id and format alone.
    public static func storedVideo(_ job: Job, in videos: String) -> String {
        videos + "/\(job.id).\(job.options.format.rawValue)"
    }

    /// Moves an optional extra into the store; its stored name, or nil.
    func carry(_ source: String, as name: String) -> String? {
        let target = videos + "/" + name
        if PlainFile.regularSize(target) != nil { return name }
        guard PlainFile.regularSize(source) != nil else { return nil }
        do { try PlainFile.move(source, to: target) } catch {
            logger.warning("could not store an extra of the video", metadata: ["file": "\(source)", "error": "\(error)"])
            return nil
        }
        return name
    }
}
