// Every crash window of the protocol, reproduced as the state a kill -9 leaves
// on disk, and what recovery makes of it.
import Foundation
import MathreelCore
import MathreelSpool
import MathreelSystem
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite struct RecoveryTests {
    /// Claimed, then killed before doing anything: back to the queue, one crash counted.
    @Test func anOrphanClaimGoesBackWithItsCountsRaised() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = try sample(in: spool)
        // A claim whose worker died: rename without a lock holder.
        #expect(rename(spool.path(.codegen, job.id + ".json"), spool.path(.active(.codegen), job.id + ".json")) == 0)
        let recovered = spool.recoverOrphans(of: .codegen, by: "test")
        #expect(recovered.map(\.action) == [.putBack(crashes: 1, alone: 0)])
        let back = try Job.decode(#require(spool.peek(.codegen, name(job))))
        #expect(back.crashes["codegen"] == 1 && back.attempts["codegen"] == 1 && back.next == "codegen")
    }

    /// Killed after replacing the content, before the rename onward: the hand-on is finished.
    @Test func anInterruptedHandOnIsFinished() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        var job = try sample(in: spool)
        job.record(.rendering, by: "test")
        job.next = "render"
        let fd = open(spool.path(.active(.codegen), job.id + ".json"), O_WRONLY | O_CREAT, 0o640)
        _ = job.encoded().withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        close(fd)
        _ = unlink(spool.path(.codegen, job.id + ".json"))
        let recovered = spool.recoverOrphans(of: .codegen, by: "test")
        #expect(recovered.map(\.action) == [.finishedHandOn(to: "render")])
        let moved = try Job.decode(#require(spool.peek(.render, name(job))))
        #expect(moved.status == .rendering && moved.crashes.isEmpty)
    }

    /// A job that killed its worker three times while it ran alone ends in failed/, never loops.
    @Test func theThirdDeathAloneFailsTheJob() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = try sample(in: spool)
        for round in 1...3 {
            try orphan(job, in: spool, alone: "codegen")
            let r = await recoverAgain(.codegen, in: spool)
            #expect(r.map(\.action) == [round < 3 ? .putBack(crashes: round, alone: round) : .failedCrashedWorker])
        }
        let failed = try Job.decode(#require(spool.peek(.failed, name(job))))
        #expect(failed.status == .failed && failed.error?.code == ErrorCode.crashedWorker)
        #expect(failed.error?.message.contains("3 times") == true)
        #expect(failed.crashes == ["codegen": 3, "codegen_alone": 3])
    }

    /// Deaths while the worker held other jobs too are bad luck: counted, never failing
    /// the job; its solo mark is for its own stage only, and recovery takes it off.
    @Test func deathsAmongOthersNeverFailAJob() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = try sample(in: spool)
        for round in 1...6 {
            try orphan(job, in: spool, alone: round == 3 ? "render" : nil)
            let r = await recoverAgain(.codegen, in: spool)
            #expect(r.map(\.action) == [.putBack(crashes: round, alone: 0)])
        }
        let back = try #require(spool.peek(.codegen, name(job)))
        #expect(!String(decoding: back, as: UTF8.self).contains("\"alone\""))
        let decoded = try Job.decode(back)
        #expect(decoded.crashes == ["codegen": 6] && decoded.attempts == ["codegen": 6])
        #expect(decoded.history.last?.note?.contains("not counted against it") == true)
    }

    /// A live claim is held by its lock: recovery leaves it alone.
    @Test func aLiveClaimIsNotAnOrphan() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = try sample(in: spool)
        guard case .claimed(let claim) = spool.claim(name(job), from: .codegen) else { Issue.record("not claimed"); return }
        #expect(spool.recoverOrphans(of: .codegen, by: "test").isEmpty)
        #expect(spool.info(.active(.codegen), name(job)) != nil)
        claim.finish()
        // Another test's child, caught between fork and exec, may hold a copy of the
        // lock's descriptor for a moment: the claim is an orphan once that copy is gone.
        var recovered = 0
        #expect(await waitUntil(timeout: 10) { recovered += spool.recoverOrphans(of: .codegen, by: "test").count; return recovered > 0 })
        #expect(recovered == 1)
    }

    /// Killed while publishing, before the rename: nothing is visible, only tmp/ debris.
    @Test func aTornPublishLeavesNothingInTheQueues() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let fd = open(spool.path(.tmp, "x.json.123-1.tmp"), O_WRONLY | O_CREAT, 0o640)
        _ = write(fd, "{\"probl", 7)
        close(fd)
        for p in Place.claimable { #expect(try spool.list(p).isEmpty) }
    }

    /// Garbage in active/ (torn by a power cut) is quarantined, not looped on.
    @Test func anUnreadableOrphanIsQuarantined() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        _ = FileManager.default.createFile(atPath: spool.path(.active(.render), "torn.json"), contents: Data("{\"id\": \"ab".utf8))
        let r = spool.recoverOrphans(of: .render, by: "test")
        #expect(r.count == 1)
        #expect(spool.info(.quarantine, FileName("torn.json")) != nil)
    }
}

/// Moves a job from codegen/ into active/codegen as a dead worker leaves it,
/// with the solo turn's mark when `alone` names a stage.
func orphan(_ job: Job, in spool: Spool, alone: String?) throws {
    let from = spool.path(.codegen, job.id + ".json"), to = spool.path(.active(.codegen), job.id + ".json")
    guard let alone else {
        #expect(rename(from, to) == 0)
        return
    }
    guard case .object(var o) = try JSONValue.parse(#require(spool.peek(.codegen, name(job)))) else { Issue.record("not an object"); return }
    o["alone"] = .string(alone)
    #expect(unlink(from) == 0)
    writeFile(to, JSONValue.object(o).serialized())
}
