// WorkerLoop: the one consumer loop every stage plugs its step into. It recovers
// the stage's orphans, watches its queue, claims with bounded concurrency,
// promotes due deferred jobs, applies the step's outcome through the claim verbs,
// and on graceful shutdown finishes work in hand or puts it back. A suspect (a
// job whose worker died holding it here before) runs alone: `StepGate` keeps
// every other claim of this process's loops on the spool out meanwhile, so a
// death then is the job's own (see Recovery).
import Logging
import MathreelCore
import MathreelSystem
import ServiceLifecycle
import Synchronization

/// What a step decided for its claimed job.
public enum Outcome: Sendable {
    /// Onward to the next place (the step has recorded the new status).
    case handOn(Job, to: Place)
    /// A retryable failure: deferred with backoff, failed when the stage's tries run out.
    case postpone(Job, JobError)
    /// A final failure, told to the person.
    case fail(Job, JobError)
    /// Not a job: set aside with this reason.
    case quarantine(String)
    /// The step let go of the claim itself.
    case handled
}

public struct WorkerLoop: Service {
    public typealias Step = @Sendable (Claim) async throws -> Outcome

    public let spool: Spool
    /// The directory consumed; a stage's queue, or ready/ for delivery's web side.
    public let queue: Place
    /// Who the loop is, in history entries and logs.
    public let name: String
    public var concurrency: Int
    public var backoff = Backoff()
    /// Seconds a scan leaves young files alone (a `cp` may still be writing them).
    public var settle: Double?
    public var rescanInterval: Double = 60
    /// On graceful shutdown, how long work in hand may run before it is put back.
    public var shutdownGrace: Double = 8
    public var logger: Logger
    /// Renames a file as it is claimed (ingest gives a person's file its job id).
    public var claimName: (@Sendable (FileName) -> FileName)?
    /// Called once, after recovery and the first scan: the stage is serving (READY=1).
    public var onReady: @Sendable () -> Void = {}
    /// Called at least every few seconds while the loop is alive (the watchdog's proof).
    public var onTick: @Sendable () -> Void = {}
    public let step: Step
    /// Shared by every loop of this process on this spool.
    let gate: StepGate

    public init(spool: Spool, stage: Stage, concurrency: Int = 4, logger: Logger, step: @escaping Step) {
        self.init(spool: spool, queue: .queue(stage), name: stage.rawValue, concurrency: concurrency, logger: logger, step: step)
    }

    public init(spool: Spool, queue: Place, name: String, concurrency: Int = 4, logger: Logger, step: @escaping Step) {
        self.spool = spool; self.queue = queue; self.name = name; self.concurrency = max(1, concurrency)
        self.logger = logger; self.step = step
        self.gate = StepGate.of(spool)
    }

    var stage: Stage? { queue.stage }

    public func run() async throws {
        // A loop on a place the protocol gives no consumer is a programming error.
        guard !Moves.claimers(of: queue).isEmpty else { throw MoveRefused(from: queue, to: queue) }
        for r in spool.recoverOrphans(of: queue, by: name) {
            logger.warning("recovered a job left by a stopped worker", metadata: ["job_id": "\(r.jobID ?? r.name)", "action": "\(r.action)"])
        }
        let work = WorkQueue()
        let grace = shutdownGrace
        // Cancellation (not only graceful shutdown) must release workers waiting for names.
        try await withTaskCancellationHandler {
            try await runParts(work, grace: grace)
        } onCancel: {
            Task { await work.close() }
        }
    }

    private func runParts(_ work: WorkQueue, grace: Double) async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: LoopPart.self) { group in
                group.addTask { try await self.feed(work); return .feeder }
                group.addTask { await self.promote(); return .promoter }
                group.addTask {
                    await withTaskGroup(of: Void.self) { workers in
                        for _ in 0..<self.concurrency {
                            workers.addTask {
                                while let name = await work.next() {
                                    await self.process(name, work)
                                    await work.finished(name)
                                }
                            }
                        }
                    }
                    return .workers
                }
                group.addTask {
                    await work.waitUntilClosed()
                    try? await Task.sleep(for: .seconds(grace))
                    return .deadline
                }
                while let part = try await group.next() {
                    switch part {
                    case .workers, .deadline:
                        group.cancelAll()
                        return
                    case .feeder, .promoter:
                        continue
                    }
                }
            }
        } onGracefulShutdown: {
            Task { await work.close() }
        }
    }

    enum LoopPart: Sendable { case feeder, promoter, workers, deadline }

    private func feed(_ work: WorkQueue) async throws {
        var watcher = DirectoryWatcher(path: spool.path(queue), rescanInterval: rescanInterval, settle: settle)
        let logger = self.logger, queue = self.queue
        watcher.onOverflow = { logger.warning("inotify queue overflowed; rescanning", metadata: ["queue": "\(queue.path)"]) }
        var ready = false
        for try await batch in watcher {
            await work.add(batch)
            if !ready {
                ready = true
                onReady()
                logger.info("serving", metadata: ["queue": "\(queue.path)", "waiting": "\(batch.count)"])
            }
        }
    }

    private func promote() async {
        while !Task.isCancelled {
            onTick()
            let now = Date().timeIntervalSince1970
            let next = stage.flatMap { spool.promoteDue($0, now: now) }
            let wait = min(max((next ?? .infinity) - now, 0.05), 5)
            try? await Task.sleep(for: .seconds(wait))
        }
    }

    private func process(_ file: FileName, _ work: WorkQueue) async {
        // Cancelled while waiting: nothing is claimed, the name stays in its queue.
        guard await gate.enter() else { return }
        if case .claimed(let claim)? = await claim(file, work) {
            if isSuspect(claim) {
                // Alone means holding nothing else: let go of it while waiting for the turn,
                // so a death meanwhile is counted against no one.
                let back: Void? = try? await BlockingIO.run { try claim.putBack() }
                claim.finish()
                await gate.leave()
                if back != nil { await runAlone(claim.name, work) }
                return
            }
            await run(claim)
        }
        await gate.leave()
    }

    /// Claims `file` and says what came of it; the claim is the caller's to run.
    private func claim(_ file: FileName, _ work: WorkQueue) async -> ClaimResult? {
        let spool = self.spool, queue = self.queue, claimName = self.claimName, untilClosed = settle != nil
        let result = try? await BlockingIO.run({ spool.claim(file, from: queue, as: claimName?(file), untilClosed: untilClosed) })
        switch result {
        case .busy?:
            await work.claimAgainSoon(file)
        case .quarantined(let reason)?:
            logger.warning("quarantined a file that is not a job", metadata: ["file": "\(file)", "reason": "\(reason)"])
        default:
            break
        }
        return result
    }

    /// Whether a worker died holding this job at this queue before. Job files
    /// without crashes never carry the key, so most claims skip the parse.
    private func isSuspect(_ claim: Claim) -> Bool {
        guard claim.bytes.firstRange(of: Array("\"crashes\"".utf8)) != nil,
              case .object(let object)? = try? JSONValue.parse(claim.bytes) else { return false }
        return Job.counter(object["crashes"]?.objectValue?[Spool.crashKey(queue)]) > 0
    }

    /// A suspect's solo turn: once this process holds no other claim and runs no
    /// other step, claim it again, mark the file, run the step as usual. A death
    /// from the mark until the claim lets go counts against the job (Recovery).
    private func runAlone(_ file: FileName, _ work: WorkQueue) async {
        // Cancelled while waiting: the file waits in its queue.
        guard await gate.enterAlone() else { return }
        if case .claimed(let claim)? = await claim(file, work) {
            let id = claim.name.jobID ?? claim.name.description
            do {
                try await BlockingIO.run { try claim.markAlone() }
                logger.notice("running a job alone: a worker stopped while holding it here before", metadata: ["job_id": "\(id)"])
                await run(claim)
            } catch {
                // Not retried (it may be a failed fsync): recovery takes the claim from the disk.
                logger.error("could not mark a job to run alone; recovery will", metadata: ["job_id": "\(id)", "error": "\(error)"])
                claim.finish()
            }
        }
        await gate.leaveAlone()
    }

    private func run(_ claim: Claim) async {
        let id = claim.name.jobID ?? claim.name.description
        var outcome: Outcome
        let started = ContinuousClock.now
        do {
            outcome = try await step(claim)
        } catch is CancellationError {
            do { try await BlockingIO.run { try claim.putBack() } } catch { logger.error("could not put a job back; recovery will", metadata: ["job_id": "\(id)", "error": "\(error)"]) }
            logger.notice("put a job back at shutdown", metadata: ["job_id": "\(id)"])
            claim.finish()
            return
        } catch {
            if let job = try? claim.job() {
                // The error's own text (paths, system messages) goes to the log, not to the person.
                logger.error("a step failed unexpectedly; the job will be tried again", metadata: ["job_id": "\(id)", "error": "\(error)"])
                outcome = .postpone(job, JobError(stage: name, code: "internal_error",
                                               message: "The \(name) step hit an unexpected problem on the server; it will be tried again."))
            } else {
                outcome = .quarantine("the \(name) stage could not read it as a job: \(error)")
            }
        }
        do {
            let chosen = outcome, took = "\(((ContinuousClock.now - started).seconds * 10).rounded() / 10)"
            try await BlockingIO.run { try self.apply(chosen, to: claim, id: id, took: took) }
        } catch {
            // The claim's locks close with it, so recovery will find and finish this file.
            logger.error("could not move a job on; recovery will", metadata: ["job_id": "\(id)", "error": "\(error)"])
        }
        claim.finish()
    }

    /// Every move is logged with the step's seconds (Postfix's one line per queue move):
    /// a job that stalls is then seen by where its last line left it.
    private func apply(_ outcome: Outcome, to claim: Claim, id: String, took: String) throws {
        switch outcome {
        case .handOn(let job, let place):
            try claim.handOn(job, to: place)
            logger.info("handed on", metadata: ["job_id": "\(job.id)", "to": "\(place.path)", "step_s": "\(took)"])
        case .postpone(let job, let error):
            guard let stage else {
                try claim.fail(job, error: error, by: name)
                return
            }
            let place = try claim.postpone(job, error: error, stage: stage, backoff: backoff, by: name)
            logger.warning("try failed", metadata: ["job_id": "\(job.id)", "code": "\(error.code)", "error": "\(error.message)", "to": "\(place.path)", "step_s": "\(took)"])
        case .fail(let job, let error):
            try claim.fail(job, error: error, by: name)
            logger.notice("job failed", metadata: ["job_id": "\(job.id)", "code": "\(error.code)", "error": "\(error.message)", "step_s": "\(took)"])
        case .quarantine(let reason):
            try claim.quarantine(reason: reason)
            logger.warning("quarantined", metadata: ["job_id": "\(id)", "file": "\(claim.originalName)", "reason": "\(reason)"])
        case .handled:
            break
        }
    }
}

/// The names waiting for a worker, de-duplicated against those in work.
actor WorkQueue {
    private var pending: [FileName] = []
    private var head = 0
    private var known: Set<FileName> = []
    private var inFlight: Set<FileName> = []
    private var waiters: [CheckedContinuation<FileName?, Never>] = []
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []
    private(set) var closed = false

    func add(_ names: [FileName]) {
        for n in names where !known.contains(n) && !inFlight.contains(n) {
            if let w = waiters.popLast() {
                inFlight.insert(n)
                w.resume(returning: n)
            } else {
                known.insert(n)
                pending.append(n)
            }
        }
    }

    func next() async -> FileName? {
        if closed { return nil }
        if head < pending.count {
            let n = pending[head]
            head += 1
            if head > 4096, head * 2 > pending.count { pending.removeFirst(head); head = 0 }
            known.remove(n)
            inFlight.insert(n)
            return n
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    func finished(_ name: FileName) { inFlight.remove(name) }

    func claimAgainSoon(_ name: FileName) {
        Task {
            try? await Task.sleep(for: .seconds(1))
            self.add([name])
        }
    }

    func close() {
        closed = true
        for w in waiters { w.resume(returning: nil) }
        waiters = []
        for w in closeWaiters { w.resume() }
        closeWaiters = []
    }

    func waitUntilClosed() async {
        if closed { return }
        await withCheckedContinuation { closeWaiters.append($0) }
    }
}

/// Who may hold claims, per spool in this process: any number of loops' claims
/// at once (a place is taken before the claim, given up after it lets go), or
/// one suspect alone. A waiting suspect goes first (no new claim starts); it holds
/// no place while it waits, so two suspects never deadlock. Waits end early,
/// answering false, when the task is cancelled.
actor StepGate {
    private var shared = 0
    private var alone = false
    private var sharedWaiters: [(id: UInt64, resume: CheckedContinuation<Bool, Never>)] = []
    private var aloneWaiters: [(id: UInt64, resume: CheckedContinuation<Bool, Never>)] = []
    private var cancelled: Set<UInt64> = []
    private var lastID: UInt64 = 0

    private static let gates = Mutex<[String: StepGate]>([:])

    /// The gate of every loop of this process on `spool`.
    static func of(_ spool: Spool) -> StepGate {
        gates.withLock { g in
            if let gate = g[spool.root] { return gate }
            let gate = StepGate()
            g[spool.root] = gate
            return gate
        }
    }

    func enter() async -> Bool {
        if !alone && aloneWaiters.isEmpty { shared += 1; return true }
        return await wait(alone: false)
    }

    func leave() {
        shared -= 1
        admit()
    }

    func enterAlone() async -> Bool {
        if !alone && shared == 0 && aloneWaiters.isEmpty { alone = true; return true }
        return await wait(alone: true)
    }

    func leaveAlone() {
        alone = false
        admit()
    }

    private func wait(alone wantsAlone: Bool) async -> Bool {
        lastID += 1
        let id = lastID
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                if cancelled.remove(id) != nil || Task.isCancelled { c.resume(returning: false); return }
                if wantsAlone { aloneWaiters.append((id, c)) } else { sharedWaiters.append((id, c)) }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    private func cancel(_ id: UInt64) {
        if let i = sharedWaiters.firstIndex(where: { $0.id == id }) {
            sharedWaiters.remove(at: i).resume.resume(returning: false)
        } else if let i = aloneWaiters.firstIndex(where: { $0.id == id }) {
            aloneWaiters.remove(at: i).resume.resume(returning: false)
            admit()
        } else {
            cancelled.insert(id)  // not waiting yet; `wait` will see it
        }
    }

    private func admit() {
        guard !alone else { return }
        if !aloneWaiters.isEmpty {
            guard shared == 0 else { return }
            alone = true
            aloneWaiters.removeFirst().resume.resume(returning: true)
            return
        }
        shared += sharedWaiters.count
        for w in sharedWaiters { w.resume.resume(returning: true) }
        sharedWaiters = []
    }
}
