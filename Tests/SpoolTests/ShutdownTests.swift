// SIGTERM with work in hand: the daemon stops claiming, lets work run for its
// grace period (8 s), puts back what is still running, and exits 0 well inside
// the units' TimeoutStopSec (20 s), before systemd would kill it.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ShutdownTests {
    @Test(.timeLimit(.minutes(1)))
    func sigtermPutsBackWorkStillInHandAndExitsBeforeSystemdWouldKillIt() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        var ids = Set<String>()
        for _ in 0..<12 {
            let job = NoOpChain.sampleJob()
            try spool.submit(job, to: .codegen)
            ids.insert(job.id)
        }
        // Steps of up to 60 s: at SIGTERM most jobs are still being worked on.
        let worker = try startWorker(dir, ["--only", "codegen", "--concurrency", "4", "--work-micros", "60000000"])
        #expect(await waitForReady(dir, after: 0))
        #expect(await waitUntil(timeout: 5) { count(spool, .active(.codegen)) == 4 }, "four jobs in hand")
        let start = Date()
        worker.signal(SIGTERM)
        let end = await worker.wait(timeout: 25)
        let took = Date().timeIntervalSince(start)
        #expect(end == .exited(0))
        // The grace is 8 s; the bound is systemd's, so a loaded machine's slower exit still counts.
        #expect(took >= 7 && took < 20, "stopped in \(took) s")
        #expect(count(spool, .active(.codegen)) == 0, "nothing left claimed")
        let seen = try census(spool)
        #expect(Set(seen.keys) == ids)
        for (id, places) in seen { #expect(places == [.codegen] || places == [.render], "\(id) is in \(places)") }
        // Put back untouched: no crash counted against the job.
        for job in jobs(in: spool, .codegen) { #expect(job.crashes.isEmpty && job.attempts.isEmpty) }
        let log = (try? String(contentsOfFile: dir.path + "/worker.log", encoding: .utf8)) ?? ""
        #expect(log.contains("put a job back at shutdown"))
    }
}
