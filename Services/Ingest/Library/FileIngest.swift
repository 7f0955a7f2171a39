// Ingest, file side: takes what people drop into incoming/, validates it, fills
// in id, time, origin and status, and routes problems to codegen/ and code to
// render/. Anything that is not a job goes to quarantine/ with its reason.
import Logging
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem

public struct FileIngest: Sendable {
    public let spool: Spool
    public let config: Config
    public let logger: Logger

    public init(spool: Spool, config: Config, logger: Logger) {
        self.spool = spool; self.config = config; self.logger = logger
    }

    /// A dropped file keeps a `<uuid>.json` name as its job id; any other name gets a new id.
    public static func claimName(_ name: FileName) -> FileName {
        name.jobID != nil ? name : FileName(JobID.make() + ".json")
    }

    /// Why code from a person is refused, on every channel.
    static let directCodeOff = "This server does not accept Manim code from people (MATHREEL_DIRECT_CODE=off). Send the math problem as text instead."

    public func step(_ claim: Claim) -> Outcome {
        var id = claim.name.jobID ?? JobID.make()
        var notes: [String] = []
        // An id already in use elsewhere (a job file copied back in) gets a new one,
        // so no id ever reaches two final states.
        if let place = spool.locate(id), place != claim.active {
            notes.append("its id \(id) was already in \(place.path)/, so it got a new one")
            id = JobID.make()
        }
        var job: Job
        do {
            job = try Job.intake(claim.bytes, JobIntake(id: id, channel: .file, defaultQuality: config.defaultQuality))
        } catch let invalid as JobInvalid {
            return .quarantine(invalid.description)
        } catch {
            return .quarantine("it could not be read as a job: \(error)")
        }
        let from = claim.originalName == claim.name ? "" : " '\(claim.originalName)'"
        job.record(.queued, by: "ingest", note: (["accepted from \(job.origin.channel.rawValue)\(from)"] + notes).joined(separator: "; "))
        if job.kind == .code && !config.directCode {
            return .fail(job, JobError(stage: "ingest", code: ErrorCode.codeRejected,
                                       message: FileIngest.directCodeOff))
        }
        return .handOn(job, to: job.kind == .problem ? .codegen : .render)
    }

    /// The worker loop over incoming/: young files wait 2 s for their writer to close them.
    public func loop(concurrency: Int = 4) -> WorkerLoop {
        var loop = WorkerLoop(spool: spool, stage: .ingest, concurrency: concurrency, logger: logger) { claim in
            self.step(claim)
        }
        loop.settle = 2
        loop.claimName = FileIngest.claimName
        return loop
    }
}
