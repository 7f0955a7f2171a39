// Finding a job by id wherever it is, and queueing a failed one again: the
// `mathreel` command and ingest's chat commands share both.
#if canImport(Glibc)
import Glibc
#endif
import MathreelCore
import MathreelSystem

/// A job file as found in the spool: where, its raw bytes, and what could be read.
public struct FoundJob: Sendable {
    public let place: Place
    public let bytes: [UInt8]
    /// The job as a stage wrote it (nil for a person's raw file not yet taken by ingest).
    public let job: Job?
    /// The JSON object, however incomplete.
    public let object: JSONObject?
    public let mtime: Double?

    public var status: String { job?.status.rawValue ?? object?["status"]?.stringValue ?? "queued" }
    public var progress: Int? { job?.progress ?? object?["progress"]?.intValue }
}

extension Spool {
    /// Finds a job by id. A rename can carry the file past the directory scan or away
    /// between locating and reading it: one more scan, or a short wait, covers that.
    /// An id found nowhere twice is absent, answered at once (webhooks ask for every update).
    public func find(_ id: String) -> FoundJob? {
        for attempt in 0..<10 {
            if attempt > 0 { usleep(5_000) }
            guard let place = locate(id) else { return nil }
            let name = FileName(id + ".json")
            guard let bytes = peek(place, name) else { continue }
            let object = (try? JSONValue.parse(bytes))?.objectValue
            let job = try? Job.decode(bytes)
            return FoundJob(place: place, bytes: bytes, job: job, object: object, mtime: info(place, name)?.mtime)
        }
        return nil
    }
}

/// Why a failed job could not be queued again.
public enum RequeueRefusal: Error, Sendable {
    case notFound
    case notFailed(FoundJob)
    case lost, busy
    case quarantined(String)
    case unreadable(String)
    case diskFull(String)
    case moveFailed(String)
}

extension Spool {
    /// Queues a failed or expired job again (`mathreel retry`, a chat's /retry): claims
    /// it from failed/ like any worker, clears its error, tries and link, and hands it
    /// on to incoming/, where ingest validates and routes it.
    public func requeue(_ id: String, by: String, note: String) throws(RequeueRefusal) -> Job {
        guard let found = find(id) else { throw .notFound }
        guard found.place == .failed else { throw .notFailed(found) }
        if let reason = DiskGuard.raisedReason(self) { throw .diskFull(reason) }
        switch claimJob(id, from: .failed) {
        case .lost: throw .lost
        case .busy: throw .busy
        case .quarantined(let reason): throw .quarantined(reason)
        case .claimed(let claim):
            var job: Job
            do { job = try claim.job() } catch {
                try? claim.putBack()
                throw .unreadable("\(error)")
            }
            guard job.status == .failed || job.status == .expired else {
                try? claim.putBack()
                throw .notFailed(found)
            }
            let was = job.error.map { " after \($0.code)" } ?? ""
            job.error = nil
            job.attempts = [:]
            job.crashes = [:]
            // A link of an expired job is dead; a new one comes when it is ready again.
            job.delivery = nil
            job.record(.queued, by: by, note: note + was)
            do { try claim.handOn(job, to: .incoming) } catch { throw .moveFailed("\(error)") }
            return job
        }
    }
}
