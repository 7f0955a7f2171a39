// Poison or bad luck: kill -9 from outside while a worker holds several jobs
// never fails one, a suspect runs alone, a job that really kills its worker
// still ends crashed_worker, and absurd counters neither trap nor loop.
import Foundation
import Logging
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem
import Testing
import TestSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A job file's JSON with `"@@"` placeholders replaced by raw JSON text (values no `Job` can hold).
func rawJob(_ job: Job, _ edit: (inout JSONObject) -> Void, values: [String]) -> [UInt8] {
    var o = job.jsonObject
    edit(&o)
    var text = String(decoding: JSONValue.object(o).serialized(), as: UTF8.self)
    for v in values {
        guard let r = text.range(of: "\"@@\"") else { break }
        text.replaceSubrange(r, with: v)
    }
    return Array(text.utf8)
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o640)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
    close(fd)
}

/// Where a job file is now, and its JSON object there (nil when not JSON).
func whereIs(_ spool: Spool, _ id: String) -> (Place, JSONObject?)? {
    for place in Place.all + [.quarantine] {
        if let bytes = spool.peek(place, FileName(id + ".json")) {
            if case .object(let o)? = try? JSONValue.parse(bytes) { return (place, o) }
            return (place, nil)
        }
    }
    if let q = try? spool.list(.quarantine), q.contains(where: { $0.string?.hasPrefix(id) == true && $0.string?.hasSuffix(".reason") == false }) {
        return (.quarantine, nil)
    }
    return nil
}

/// Whether the process is stopped (state T in /proc/<pid>/stat).
func isStopped(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return stat[stat.index(after: close)...].split(separator: " ").first == "T"
}

@Suite(.serialized) struct BadLuckTests {
    /// 60 jobs through the whole chain, four claims per stage, the worker killed
    /// again and again at random instants soon after it starts (where the protocol
    /// once failed healthy jobs: the same ones are claimed first each time). Each
    /// kill lands while the worker holds several jobs: it is frozen (SIGSTOP) at a
    /// random instant, and killed only if active/ then holds two claims or more.
    /// That is bad luck by definition, and no job may be failed for it. (A kill
    /// inside a job's solo turn looks exactly like the job's own crash; those are
    /// left to the poison test below and to the kill -9 test in ChaosTests.)
    @Test(.timeLimit(.minutes(2)))
    func killsWhileTheWorkerHoldsSeveralJobsNeverFailOne() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let total = 60
        for _ in 0..<total { try spool.submit(NoOpChain.sampleJob(), to: .incoming) }
        var kills = 0, heldAtKills = 0, lives = 0
        while count(spool, .done) + count(spool, .failed) < total && kills < 40 && lives < 120 {
            lives += 1
            let before = readyLines(dir)
            let worker = try startWorker(dir, ["--concurrency", "4", "--work-micros", "20000"])
            guard await waitUntil(timeout: 20, interval: 0.002, { readyLines(dir) > before }) else {
                Issue.record("worker not ready")
                worker.signal(SIGKILL)
                break
            }
            var killed = false
            let start = Date()
            while !killed && Date().timeIntervalSince(start) < 2 {
                try await Task.sleep(for: .microseconds(Int.random(in: 1_000...15_000)))
                worker.signal(SIGSTOP)
                guard await waitUntil(timeout: 5, interval: 0.0005, { isStopped(worker.pid) }) else { break }
                let held = Place.claimable.reduce(0) { $0 + count(spool, .active($1)) }
                if held >= 2 {
                    worker.signal(SIGKILL)
                    killed = true
                    heldAtKills += held
                } else {
                    worker.signal(SIGCONT)
                }
            }
            if !killed { worker.signal(SIGTERM) }
            let end = await worker.wait()
            if killed { kills += 1 } else { #expect(end == .exited(0), "a worker not killed stops gracefully (\(end))") }
        }
        let before = readyLines(dir)
        let worker = try startWorker(dir)
        #expect(await waitForReady(dir, after: before))
        let drained = await waitUntil(timeout: 60) { count(spool, .done) + count(spool, .failed) == total }
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: 25) == .exited(0))
        #expect(drained, "all \(total) jobs reached an end after \(kills) kills")
        #expect(kills >= 10, "the worker was killed mid-flow (\(kills) times)")
        #expect(heldAtKills >= 2 * kills)
        let failed = jobs(in: spool, .failed)
        #expect(failed.isEmpty, "healthy jobs failed: \(failed.map { "\($0.id): \($0.error?.code ?? "?") \($0.crashes)" })")
        #expect(count(spool, .done) == total)
        let done = jobs(in: spool, .done)
        let repeated = done.filter { $0.crashes.values.contains { $0 >= Spool.crashLimit } }.count
        #expect(done.allSatisfy { !$0.crashes.keys.contains { $0.hasSuffix("_alone") } }, "no death counted against a job")
        print("bad-luck test: \(kills) kills holding \(heldAtKills) claims; \(repeated) jobs held at \(Spool.crashLimit)+ kills at one stage, all done")
    }

    /// A job whose step kills its own worker, among jobs that take a while: it ends
    /// in failed/ as crashed_worker after three deaths alone (four at most in all),
    /// and the jobs held with it when it first struck go on untouched.
    @Test(.timeLimit(.minutes(2)))
    func aJobThatKillsItsWorkerEndsCrashedWorkerAndSparesTheOthers() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        var healthy = Set<String>()
        for _ in 0..<3 {
            let job = NoOpChain.sampleJob()
            try spool.submit(job, to: .codegen)
            healthy.insert(job.id)
        }
        var poison = NoOpChain.sampleJob()
        poison.problem = "Solve x^2 = 4 POISON"
        try spool.submit(poison, to: .codegen)

        var deaths = 0
        var last: ChildProcess?
        let settled: @Sendable (Spool) -> Bool = { s in count(s, .failed) == 1 && count(s, .render) == 3 }
        while deaths < 8 {
            // Four claims at once, the healthy ones busy for up to 0.4 s: the first strike finds them in hand.
            let worker = try startWorker(dir, ["--only", "codegen", "--concurrency", "4", "--work-micros", "400000", "--poison", "POISON"])
            last = worker
            var end: Termination?
            _ = await waitUntil(timeout: 20) {
                end = worker.termination
                return end != nil || settled(spool)
            }
            guard let end else { break }
            #expect(end == .signaled(SIGKILL), "only the poison job stops the worker (\(end))")
            deaths += 1
            last = nil
        }
        if let last {
            last.signal(SIGTERM)
            #expect(await last.wait(timeout: 25) == .exited(0))
        }
        let failed = try #require(jobs(in: spool, .failed).first, "the poison job ended in failed/ (\(deaths) deaths)")
        #expect(failed.id == poison.id)
        #expect(failed.error?.code == ErrorCode.crashedWorker)
        #expect(failed.crashes["codegen_alone"] == 3, "three deaths alone: \(failed.crashes)")
        #expect((3...4).contains(deaths), "it stopped after three deaths alone (\(deaths) in all)")
        #expect(Set(jobs(in: spool, .render).map(\.id)) == healthy, "the others went on")
        for place in [Place.codegen, .active(.codegen), .deferred(.codegen)] { #expect(count(spool, place) == 0, "\(place)") }
    }

    /// In one process: a suspect's step runs while no other step runs and no other
    /// claim is held, with the mark in its file; the others still run four at once,
    /// and the mark never leaves the stage.
    @Test(.timeLimit(.minutes(1)))
    func aSuspectRunsAloneMarkedAndTheOthersTogether() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        var suspect = NoOpChain.sampleJob()
        suspect.crashes = ["codegen": 1]
        try spool.submit(suspect, to: .codegen)
        for _ in 0..<11 { try spool.submit(NoOpChain.sampleJob(), to: .codegen) }
        struct Seen { var running = 0, most = 0, suspectRunning = false, overlaps = 0, marked = false, heldBySuspect = 0 }
        let seen = Mutex(Seen())
        let id = suspect.id
        var loop = WorkerLoop(spool: spool, stage: .codegen, concurrency: 4, logger: Logger(label: "test")) { claim in
            let job = try claim.job()
            let mine = job.id == id
            seen.withLock { s in
                if s.suspectRunning || (mine && s.running > 0) { s.overlaps += 1 }
                s.running += 1
                s.most = max(s.most, s.running)
                if mine {
                    s.suspectRunning = true
                    if case .object(let o)? = try? JSONValue.parse(spool.peek(.active(.codegen), claim.name) ?? []) { s.marked = o["alone"] == .string("codegen") }
                    s.heldBySuspect = count(spool, .active(.codegen))
                }
            }
            try await Task.sleep(for: .milliseconds(40))
            seen.withLock { s in
                s.running -= 1
                if mine { s.suspectRunning = false }
            }
            return .handOn(job, to: .render)
        }
        loop.shutdownGrace = 1
        let running = Task { try await loop.run() }
        let ok = await waitUntil(timeout: 20) { count(spool, .render) == 12 }
        running.cancel()
        _ = try? await running.value
        #expect(ok, "all handed on (\(count(spool, .render)) in render/)")
        let s = seen.withLock { $0 }
        #expect(s.overlaps == 0, "no step ran beside the suspect's")
        #expect(s.marked, "the file said it ran alone while it did")
        #expect(s.heldBySuspect == 1, "the suspect's process held no other claim (\(s.heldBySuspect))")
        #expect(s.most == 4, "the others ran four at once (\(s.most))")
        let out = try #require(spool.peek(.render, name(suspect)))
        #expect(!String(decoding: out, as: UTF8.self).contains("\"alone\""), "the mark stays behind")
        #expect(try Job.decode(out).crashes == ["codegen": 1])
    }

    static let absurd = ["9223372036854775807", "-9223372036854775808", "-1", "-1000000000000000", "1.5", "\"3\"", "true",
                         "null", "99999999999999999999999", "1e308", "-1e308", "{}", "[7]"]

    /// Counts a person never could write sensibly, in an orphan: recovery neither
    /// traps nor loops, and what it writes back is a sane count.
    @Test(arguments: BadLuckTests.absurd)
    func absurdCountersInAnOrphanAreRecoveredSanely(_ value: String) async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = NoOpChain.sampleJob()
        let bytes = rawJob(job, { o in
            o["attempts"] = .object(["codegen": .string("@@")])
            o["crashes"] = .object(["codegen": .string("@@"), "codegen_alone": .string("@@")])
        }, values: [value, value, value])
        writeFile(spool.path(.active(.codegen), job.id + ".json"), bytes)
        // Dying holding it among others, then alone, then alone again: never a trap, never a loop.
        for round in 0..<4 {
            guard let (place, object) = whereIs(spool, job.id) else { Issue.record("\(value): the job is gone"); return }
            if place == .failed || place == .quarantine { break }
            if place == .codegen {
                #expect(rename(spool.path(.codegen, job.id + ".json"), spool.path(.active(.codegen), job.id + ".json")) == 0)
                // A solo turn under way when the worker died (see WorkerLoop).
                if round > 1, var o = object {
                    o["alone"] = .string("codegen")
                    _ = unlink(spool.path(.active(.codegen), job.id + ".json"))
                    writeFile(spool.path(.active(.codegen), job.id + ".json"), JSONValue.object(o).serialized())
                }
            }
            let r = await recoverAgain(.codegen, in: spool)
            #expect(r.count == 1, "\(value): one orphan recovered in round \(round)")
            guard let (after, o) = whereIs(spool, job.id) else { Issue.record("\(value): the job is gone"); return }
            if after == .codegen {
                let c = o?["crashes"]?.objectValue?["codegen"], a = o?["attempts"]?.objectValue?["codegen"]
                #expect(c?.intValue.map { (1...Job.counterLimit).contains($0) } == true, "\(value): crashes written as \(String(describing: c))")
                #expect(a?.intValue.map { (1...Job.counterLimit).contains($0) } == true, "\(value): attempts written as \(String(describing: a))")
                #expect(o?["alone"] == nil, "the solo mark is gone once recovered")
            } else {
                #expect(after == .failed || after == .quarantine, "\(value): went to \(after)")
            }
        }
        #expect(try spool.list(.active(.codegen)).isEmpty)
    }

    /// The same counts in a file dropped into a queue: the claim, the stage's read
    /// and a retryable failure neither trap nor loop; the job ends deferred, failed
    /// or set aside with its reason.
    @Test(arguments: BadLuckTests.absurd)
    func absurdCountersInADroppedFileNeitherTrapNorLoop(_ value: String) throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = NoOpChain.sampleJob()
        let bytes = rawJob(job, { o in
            o["attempts"] = .object(["codegen": .string("@@")])
            o["crashes"] = .object(["codegen": .string("@@")])
        }, values: [value, value])
        writeFile(spool.path(.codegen, job.id + ".json"), bytes)
        guard case .claimed(let claim) = spool.claim(name(job), from: .codegen) else { Issue.record("\(value): not claimed"); return }
        if let read = try? claim.job() {
            #expect(read.attempts.values.allSatisfy { (0...Job.counterLimit).contains($0) })
            let place = try claim.postpone(read, error: JobError(stage: "codegen", code: "providers_exhausted", message: "no provider"), stage: .codegen, by: "test")
            #expect(place == .deferred(.codegen) || place == .failed)
        } else {
            try claim.quarantine(reason: "unreadable")
        }
        #expect(try spool.list(.active(.codegen)).isEmpty)
    }

    /// A job held in memory with the largest counts there are: a retry saturates.
    @Test func aRetryOfAJobAtTheLargestCountSaturates() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = try sample(in: spool)
        guard case .claimed(let claim) = spool.claim(name(job), from: .codegen) else { Issue.record("not claimed"); return }
        var read = try claim.job()
        read.attempts["codegen"] = Int.max
        let place = try claim.postpone(read, error: JobError(stage: "codegen", code: "x", message: "y"), stage: .codegen, by: "test")
        #expect(place == .failed)
        let failed = try Job.decode(#require(spool.peek(.failed, name(job))))
        #expect(failed.attempts["codegen"] == Job.counterLimit)
    }
}
