// The protocol under real processes: kill -9 at random instants while jobs flow,
// four processes racing for the same queue, and more files at once than the
// inotify queue holds. Every job must end exactly once.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Where every id is, across all of the spool's directories.
func census(_ spool: Spool) throws -> [String: [Place]] {
    var seen: [String: [Place]] = [:]
    for place in Place.all + [.quarantine] {
        for n in try spool.list(place) {
            guard let s = n.string, s.hasSuffix(".json") else { continue }
            seen[String(s.dropLast(5)), default: []].append(place)
        }
    }
    return seen
}

func startWorker(_ dir: TempDir, _ args: [String] = []) throws -> ChildProcess {
    try StartedDaemon.start("mathreel-testworker", dir, arguments: args, log: "worker.log").child
}

/// Waits until the worker log holds more "ready" lines than `before` (a daemon says
/// READY only once its signal handlers are in place).
func waitForReady(_ dir: TempDir, after before: Int) async -> Bool {
    await waitUntil(timeout: 20) { readyLines(dir) > before }
}

func readyLines(_ dir: TempDir) -> Int {
    ((try? String(contentsOfFile: dir.path + "/worker.log", encoding: .utf8)) ?? "")
        .components(separatedBy: "\"msg\":\"ready\"").count - 1
}


@Suite(.serialized) struct ChaosTests {
    @Test(.timeLimit(.minutes(4)))
    func killNineAtRandomInstantsLosesNoJobAndEndsEachOnce() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let total = 1_200
        var ids = Set<String>()
        for _ in 0..<total {
            let job = NoOpChain.sampleJob()
            try spool.submit(job, to: .incoming)
            ids.insert(job.id)
        }
        var kills = 0
        while count(spool, .done) + count(spool, .failed) < total && kills < 300 {
            // Slow steps (up to 8 ms each) keep many jobs in flight at every kill.
            let worker = try startWorker(dir, ["--work-micros", "8000"])
            if let t = await worker.wait(timeout: Double.random(in: 0.03...0.3)) {
                Issue.record("worker stopped by itself: \(t)")
                break
            }
            worker.signal(SIGKILL)
            _ = await worker.wait()
            kills += 1
        }
        // Drain without kills, then stop gracefully.
        let before = readyLines(dir)
        let worker = try startWorker(dir)
        #expect(await waitForReady(dir, after: before))
        let drained = await waitUntil(timeout: 60) { count(spool, .done) + count(spool, .failed) == total }
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: 25) == .exited(0), "graceful stop (grace 8 s; systemd allows 20 s)")
        #expect(drained, "all \(total) jobs reached an end after \(kills) kills")
        #expect(kills >= 10, "the test must actually kill the worker mid-flow (killed \(kills) times)")

        let seen = try census(spool)
        #expect(Set(seen.keys) == ids, "no job lost, none invented")
        for (id, places) in seen {
            #expect(places.count == 1, "\(id) is in \(places)")
            #expect(places.first == .done || places.first == .failed, "\(id) ended in \(places)")
        }
        for job in jobs(in: spool, .failed) {
            #expect(job.error?.code == ErrorCode.crashedWorker, "only repeated crashes may fail a no-op job")
        }
        for p in Place.claimable { #expect(try spool.list(.active(p)).isEmpty, "active/\(p) is empty") }
        print("kill -9 test: \(kills) kills, \(count(spool, .done)) done, \(count(spool, .failed)) failed as crashed_worker")
    }

    @Test(.timeLimit(.minutes(3)))
    func fourProcessesRacingClaimEachJobExactlyOnce() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let total = 1_000
        let workers = try (0..<4).map { _ in try startWorker(dir, ["--only", "codegen", "--concurrency", "4"]) }
        #expect(await waitUntil(timeout: 20) { readyLines(dir) == 4 })
        for _ in 0..<total { try spool.submit(NoOpChain.sampleJob(), to: .codegen) }
        let ok = await waitUntil(timeout: 90) { count(spool, .render) == total }
        for w in workers { w.signal(SIGTERM) }
        for w in workers { #expect(await w.wait(timeout: 10) == .exited(0)) }
        #expect(ok, "all \(total) jobs handed on (\(count(spool, .render)) in render/)")
        var pids = Set<String>()
        for job in jobs(in: spool, .render) {
            let claims = job.history.filter { $0.by.hasPrefix("codegen:") }
            #expect(claims.count == 1, "\(job.id) was taken \(claims.count) times")
            pids.formUnion(claims.map(\.by))
        }
        #expect(pids.count >= 2, "the processes really raced (\(pids.count) took jobs)")
    }

    @Test(.timeLimit(.minutes(4)))
    func moreFilesThanTheInotifyQueueHoldsAreAllTaken() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let limit = Int((try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16_384
        let total = max(20_000, limit + 4_000)
        let worker = try startWorker(dir, ["--only", "codegen", "--concurrency", "4"])
        #expect(await waitForReady(dir, after: 0))
        // Freeze the reader so the kernel's event queue overflows, then drop every file at once.
        worker.signal(SIGSTOP)
        let job = NoOpChain.sampleJob()
        for _ in 0..<total {
            var j = job
            j.id = JobID.make()
            j.next = "codegen"
            let tmp = spool.path(.tmp, j.id + ".json")
            try Data(j.encoded()).write(to: URL(fileURLWithPath: tmp))
            #expect(rename(tmp, spool.path(.codegen, j.id + ".json")) == 0)
        }
        worker.signal(SIGCONT)
        let ok = await waitUntil(timeout: 180, interval: 0.5) { count(spool, .render) == total }
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: 10) == .exited(0))
        #expect(ok, "\(count(spool, .render)) of \(total) handed on")
        let log = (try? String(contentsOfFile: dir.path + "/worker.log", encoding: .utf8)) ?? ""
        #expect(log.contains("inotify queue overflowed"), "the kernel queue really overflowed and the rescan took the rest")
        #expect(count(spool, .codegen) == 0)
    }
}
