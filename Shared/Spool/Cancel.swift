// Cancel: ending one job wherever it waits (a queue, deferred/, ready/) as
// `cancelled`, its video deleted first. Ingest cancels on a person's /forget and
// the janitor finishes what ingest found held by a worker or in mid-move.
import MathreelCore

/// What became of one cancel.
public enum CancelOutcome: Sendable, Equatable {
    /// Ended as `cancelled`; `wasReady`: its link was waiting in ready/.
    case cancelled(wasReady: Bool)
    /// Nothing left to cancel: done, failed, gone, or not a job.
    case finished
    /// A worker holds it, or it is between two places: ask again later.
    case busy
}

extension Spool {
    /// What a person is told of a job cancelled at their /forget (ingest's and the janitor's words alike).
    public static func forgotten(wasReady: Bool) -> String {
        wasReady ? "Deleted at your request (/forget)." : "Stopped at your request (/forget)."
    }

    /// Cancels the job with `id`: claims it from wherever it waits, deletes its video
    /// (artifacts, `videos`, cache entries only it used), then fails it with `message`
    /// (told whether it was ready). A crash between the two leaves a dead link, never
    /// a kept video.
    public func cancel(_ id: String, by: String, videos: VideoIndex, cache: RenderCache,
                       message: (_ wasReady: Bool) -> String) -> CancelOutcome {
        guard let place = locate(id) else { return .finished }
        let result: ClaimResult
        switch place {
        case .incoming, .codegen, .render, .deliver, .ready, .deferred: result = claimJob(id, from: place)
        case .active: return .busy
        default: return .finished
        }
        // Lost: it moved on since the look; busy: a worker's (or a spawning child's) lock.
        guard case .claimed(let claim) = result else { return .busy }
        _ = deleteVideo(of: id, videos, cache)
        guard let job = try? claim.job() else {
            do { try claim.quarantine(reason: "it could not be read as a job when it was to be cancelled") } catch { claim.finish() }
            return .finished
        }
        let ready = claim.queue == .ready
        do {
            try claim.fail(job, error: JobError(stage: by, code: ErrorCode.cancelled, message: message(ready)), by: by)
            return .cancelled(wasReady: ready)
        } catch {
            claim.finish()
            return .busy
        }
    }
}
