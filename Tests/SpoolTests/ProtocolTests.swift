// The spool protocol's steps one by one (docs/PROTOCOL.md): publish, claim, hand-on,
// defer and promote, fail, quarantine, put back — each checked on disk.
import Foundation
import MathreelCore
import MathreelSpool
import MathreelSystem
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

func sample(_ place: Place = .codegen, in spool: Spool) throws -> Job {
    var job = Job(kind: .problem, problem: "Solve x^2 - 5x + 6 = 0", origin: JobOrigin(channel: .file))
    job.record(.queued, by: "test")
    try spool.submit(job, to: place)
    return job
}

func name(_ job: Job) -> FileName { FileName(job.id + ".json") }

@Suite struct ProtocolTests {
    /// A job is the next holder's the moment it appears in its next place: a claim then
    /// (the watch site's, a /forget) is never turned away while the hand-on's fsyncs run.
    @Test func aHandedOnJobCanBeClaimedTheMomentItAppears() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = try sample(.deliver, in: spool)
        let seen = Mutex<ClaimResult?>(nil)
        // At the instant after the rename, before the directory fsyncs: claim it from ready/.
        spool.afterRename.withLock { $0 = { place, name in
            guard place == .ready else { return }
            seen.withLock { $0 = spool.claim(name, from: .ready) }
        } }
        guard case .claimed(let claim) = spool.claim(name(job), from: .deliver) else { Issue.record("no claim"); return }
        try claim.handOn(job, to: .ready)
        spool.afterRename.withLock { $0 = nil }
        guard case .claimed(let next)? = seen.withLock({ $0 }) else {
            Issue.record("the job in ready/ could not be claimed before the hand-on's fsyncs: \(String(describing: seen.withLock { $0 }))")
            return
        }
        try next.handOn(job, to: .done)
        #expect(spool.locate(job.id) == .done)
    }

    @Test func publishNeverReplacesAnExistingFile() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        try spool.publish(Array("first\n".utf8), as: "x.json", to: .incoming)
        #expect(throws: FileError.self) { try spool.publish(Array("second\n".utf8), as: "x.json", to: .incoming) }
        #expect(String(decoding: spool.peek(.incoming, FileName("x.json"))!, as: UTF8.self) == "first\n")
        #expect(try spool.list(.tmp).isEmpty, "a refused publish leaves no debris in tmp/")
    }

    @Test func claimIsExclusiveAndHandOnMovesTheFileWithItsNewContent() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = try sample(in: spool)
        guard case .claimed(let claim) = spool.claim(name(job), from: .codegen) else { Issue.record("not claimed"); return }
        #expect(spool.info(.active(.codegen), name(job)) != nil)
        #expect(spool.info(.codegen, name(job)) == nil)
        // A second claimer loses: the file is no longer in the queue.
        guard case .lost = spool.claim(name(job), from: .codegen) else { Issue.record("second claim won"); return }
        var next = try claim.job()
        next.record(.rendering, by: "test")
        try claim.handOn(next, to: .render)
        #expect(try spool.list(.active(.codegen)).isEmpty)
        let moved = try Job.decode(#require(spool.peek(.render, name(job))))
        #expect(moved.status == .rendering && moved.progress == 80 && moved.next == "render")
        #expect(moved.history.map(\.status) == ["queued", "rendering"])
    }

    @Test func aLockedFileCannotBeClaimedTwice() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = try sample(in: spool)
        // Another process holding the lock (simulated with a second descriptor) makes the claim busy.
        let fd = open(spool.path(.codegen, job.id + ".json"), O_RDONLY)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        guard case .busy = spool.claim(name(job), from: .codegen) else { Issue.record("claimed a locked file"); return }
        #expect(spool.info(.codegen, name(job)) != nil)
    }

    @Test func retryDefersWithBackoffThenFailsWhenTriesRunOut() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = try sample(in: spool)
        let policy = Backoff(maxTries: 3, base: 5)
        let error = JobError(stage: "codegen", code: "providers_exhausted", message: "Every provider is busy.")
        for attempt in 1...3 {
            if attempt > 1 {
                // Not due yet: promotion leaves it; due: it returns to the queue.
                #expect(spool.promoteDue(.codegen) != nil)
                #expect(spool.info(.codegen, name(job)) == nil)
                let due = try #require(spool.info(.deferred(.codegen), name(job))).mtime
                let wait = due - Date().timeIntervalSince1970
                #expect(wait > 0 && wait <= 5 * pow(2, Double(attempt - 2)) * 1.5 + 0.1, "backoff \(wait) s after try \(attempt - 1)")
                spool.promoteDue(.codegen, now: due + 0.001)
            }
            guard case .claimed(let claim) = await claimAgain(name(job), from: .codegen, in: spool) else { Issue.record("try \(attempt) not claimed"); return }
            let place = try claim.postpone(try claim.job(), error: error, stage: .codegen, backoff: policy, by: "test")
            #expect(place == (attempt < 3 ? .deferred(.codegen) : .failed))
        }
        let failed = try Job.decode(#require(spool.peek(.failed, name(job))))
        #expect(failed.status == .failed && failed.error?.code == "providers_exhausted" && failed.attempts["codegen"] == 3)
    }

    @Test func quarantineKeepsTheFileAndSaysWhy() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        try spool.publish(Array("not json".utf8), as: "junk.json", to: .incoming)
        guard case .claimed(let claim) = spool.claim(FileName("junk.json"), from: .incoming) else { Issue.record("not claimed"); return }
        try claim.quarantine(reason: "the file is not valid JSON")
        let reason = try String(contentsOfFile: spool.path(.quarantine, "junk.json.reason"), encoding: .utf8)
        #expect(reason.contains("incoming/junk.json") && reason.contains("not valid JSON") && reason.contains("What to do"))
        #expect(String(decoding: spool.peek(.quarantine, FileName("junk.json"))!, as: UTF8.self) == "not json")
    }

    @Test func putBackReturnsTheFileUnchanged() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = try sample(in: spool)
        let before = spool.peek(.codegen, name(job))
        guard case .claimed(let claim) = spool.claim(name(job), from: .codegen) else { Issue.record("not claimed"); return }
        try claim.putBack()
        #expect(spool.peek(.codegen, name(job)) == before)
        #expect(try spool.list(.active(.codegen)).isEmpty)
    }

    @Test func handOnOntoAnExistingIdQuarantinesTheSecondCopy() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = try sample(in: spool)
        try spool.publish(job.encoded(), as: job.id + ".json", to: .render)
        guard case .claimed(let claim) = spool.claim(name(job), from: .codegen) else { Issue.record("not claimed"); return }
        try claim.handOn(try claim.job(), to: .render)
        #expect(spool.info(.render, name(job)) != nil)
        let reasons = try spool.list(.quarantine).compactMap(\.string).filter { $0.hasSuffix(".reason") }
        #expect(reasons.count == 1)
    }
}
