// Recovery (protocol step 4): files in active/ whose lock nobody holds belong to a
// dead worker. A file that says it was going elsewhere finishes its hand-on; any
// other goes back to its queue with its attempt and crash counts raised, and one
// that has now crashed its worker `crashLimit` times ends in failed/, never loops.
import MathreelCore
#if canImport(Glibc)
import Glibc
#endif

public enum RecoveryAction: Sendable, Equatable {
    case finishedHandOn(to: String)
    case putBack(crashes: Int)
    case failedCrashedWorker
    case quarantined(String)
}

public struct Recovered: Sendable {
    public let name: String
    public let jobID: String?
    public let queue: Place
    public let action: RecoveryAction
}

extension Spool {
    public static let crashLimit = 3

    /// Recovers every orphan in `active/<queue>`; live claims (locked) are left alone.
    @discardableResult
    public func recoverOrphans(of queue: Place, by: String) -> [Recovered] {
        guard let names = try? list(.active(queue)) else { return [] }
        var out: [Recovered] = []
        for name in names {
            guard let claim = adopt(name, in: queue) else { continue }
            if let action = try? recover(claim, by: by) {
                out.append(Recovered(name: name.description, jobID: name.jobID, queue: queue, action: action))
            }
            claim.finish()
        }
        return out
    }

    private func recover(_ claim: Claim, by: String) throws -> RecoveryAction {
        guard claim.info.kind == .regular else {
            let reason = "it is \(claim.info.kind.words), found among claimed jobs"
            try claim.quarantine(reason: reason)
            return .quarantined(reason)
        }
        guard let value = try? JSONValue.parse(claim.bytes), case .object(var object) = value else {
            let reason = "it is not a JSON object, found among claimed jobs after a worker stopped"
            try claim.quarantine(reason: reason)
            return .quarantined(reason)
        }
        // An interrupted hand-on: the file already says where it was going.
        if let next = object["next"]?.stringValue, let target = Place(path: next), target != claim.queue,
           let id = object["id"]?.stringValue, JobID.isValid(id) {
            if try FileOps.renameNoReplace(fd(claim.active), claim.name, fd(target), FileName(id + ".json")) {
                try sync(claim.active)
                try sync(target)
                return .finishedHandOn(to: target.path)
            }
            let reason = "a job with id \(id) is already in \(target.path)/; this second copy was set aside"
            try claim.quarantine(reason: reason)
            return .quarantined(reason)
        }
        // The worker died while holding it: count the crash.
        let stageKey = claim.queue.stage?.rawValue ?? claim.queue.path
        var crashes = object["crashes"]?.objectValue ?? [:]
        let n = (crashes[stageKey]?.intValue ?? 0) + 1
        crashes[stageKey] = .int(Int64(n))
        object["crashes"] = .object(crashes)
        var attempts = object["attempts"]?.objectValue ?? [:]
        attempts[stageKey] = .int(Int64((attempts[stageKey]?.intValue ?? 0) + 1))
        object["attempts"] = .object(attempts)

        if n >= Spool.crashLimit, claim.queue.stage != nil {
            if let job = try? Job.read(object, intake: nil) {
                try claim.fail(job, error: JobError(
                    stage: stageKey, code: ErrorCode.crashedWorker,
                    message: "This job stopped the \(stageKey) worker \(n) times, so it was set aside. Try a simpler problem or scene, or ask the operator to look at the logs."),
                    by: by)
                return .failedCrashedWorker
            }
            let reason = "it stopped the \(stageKey) worker \(n) times"
            try claim.quarantine(reason: reason)
            return .quarantined(reason)
        }
        object["next"] = .string(claim.queue.path)
        var history: [JSONValue] = []
        if case .array(let a)? = object["history"] { history = a }
        if object["id"] != nil {
            history.append(.object(["at": .string(Timestamp.string()), "status": object["status"] ?? .string("queued"),
                                    "by": .string(by), "note": .string("worker stopped while holding the job (\(n) of \(Spool.crashLimit)); put back")]))
            object["history"] = .array(history)
        }
        try claim.rewriteAndPutBack(JSONValue.object(object).serialized())
        return .putBack(crashes: n)
    }
}

extension Claim {
    /// Recovery's put-back: new content (raised counts), then back into the queue.
    func rewriteAndPutBack(_ bytes: [UInt8]) throws {
        try replace(with: bytes)
        _ = try move(to: queue, as: name)
        finish()
    }
}
