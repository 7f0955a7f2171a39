// Recovery (protocol step 4): files in active/ whose lock nobody holds belong to a
// dead worker. A file that says it was going elsewhere finishes its hand-on; any
// other goes back to its queue with its attempt and crash counts raised. A death
// counts against the job only when it ran alone (the worker loop's solo turn for
// a suspect: its process held no other claim; marked `alone` in the file); the
// `crashLimit`th such death ends it in failed/, so a poison job never loops, and a
// death while its worker held other jobs too never fails one.
import MathreelCore
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

public enum RecoveryAction: Sendable, Equatable {
    case finishedHandOn(to: String)
    /// Back in its queue: `crashes` deaths while held at this stage, `alone` of them while it ran alone.
    case putBack(crashes: Int, alone: Int)
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

    /// The key of a queue's counts in `attempts` and `crashes` (the stage's name).
    public static func crashKey(_ queue: Place) -> String { queue.stage?.rawValue ?? queue.path }

    /// The key counting the deaths while the job ran alone at that queue.
    public static func aloneKey(_ queue: Place) -> String { crashKey(queue) + "_alone" }

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
        // The worker died while holding it. Every death is counted; only one in the
        // job's solo turn (its process held nothing else) is the job's own.
        let stageKey = Spool.crashKey(claim.queue), aloneKey = Spool.aloneKey(claim.queue)
        let ranAlone = object["alone"]?.stringValue == stageKey
        object["alone"] = nil
        var crashes = object["crashes"]?.objectValue ?? [:]
        let n = Job.raised(Job.counter(crashes[stageKey]))
        crashes[stageKey] = .int(Int64(n))
        var alone = Job.counter(crashes[aloneKey])
        if ranAlone { alone = Job.raised(alone) }
        if crashes[aloneKey] != nil || ranAlone { crashes[aloneKey] = .int(Int64(alone)) }
        object["crashes"] = .object(crashes)
        var attempts = object["attempts"]?.objectValue ?? [:]
        attempts[stageKey] = .int(Int64(Job.raised(Job.counter(attempts[stageKey]))))
        object["attempts"] = .object(attempts)

        if ranAlone, alone >= Spool.crashLimit, claim.queue.stage != nil {
            if let job = try? Job.read(object, intake: nil) {
                try claim.fail(job, error: JobError(
                    stage: stageKey, code: ErrorCode.crashedWorker,
                    message: "This job stopped the \(stageKey) worker \(alone) times while it ran alone, so it was set aside. Try a simpler problem or scene, or ask the operator to look at the logs."),
                    by: by)
                return .failedCrashedWorker
            }
            let reason = "it stopped the \(stageKey) worker \(alone) times while it ran alone"
            try claim.quarantine(reason: reason)
            return .quarantined(reason)
        }
        object["next"] = .string(claim.queue.path)
        var history: [JSONValue] = []
        if case .array(let a)? = object["history"] { history = a }
        if object["id"] != nil {
            let note = ranAlone
                ? "worker stopped while holding the job, which ran alone (\(alone) of \(Spool.crashLimit)); put back"
                : "worker stopped while holding the job; put back, not counted against it (it runs alone next time)"
            history.append(.object(["at": .string(Timestamp.string()), "status": object["status"] ?? .string("queued"),
                                    "by": .string(by), "note": .string(note)]))
            object["history"] = .array(history)
        }
        try claim.rewriteAndPutBack(JSONValue.object(object).serialized())
        return .putBack(crashes: n, alone: alone)
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
