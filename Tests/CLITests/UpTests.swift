// `mathreel up`: the supervisor starts mathreel-ingest (a dropped file gets
// routed), restarts it after kill -9, and on SIGTERM stops every daemon and
// exits 0 with none left running.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct UpTests {
    func ingestPID(under up: pid_t) -> pid_t? {
        children(of: up).first { $0.command.hasSuffix("/mathreel-ingest") }?.pid
    }

    @Test func superviseRestartAndStop() async throws {
        let f = try CLIFixture()
        let up = try f.start("up")
        var seen: Set<pid_t> = []
        defer {
            // On a failed expectation, leave nothing behind.
            if up.child.termination == nil { up.child.signal(SIGKILL) }
            for pid in seen where isRunning(pid) { kill(pid, SIGKILL) }
        }

        var first: pid_t?
        #expect(await waitUntil(timeout: 20) { first = ingestPID(under: up.child.pid); return first != nil }, "stderr: \(up.stderr)")
        let ingest = try #require(first)
        seen.formUnion(children(of: up.child.pid).map(\.pid))

        // A person's file is taken and routed to codegen/ (and on, when codegen and render are built too).
        let onward: [Place] = [.codegen, .active(.codegen), .render, .active(.render), .deliver, .active(.deliver), .ready, .failed]
        func routed() -> Int { onward.map { f.names($0).count }.reduce(0, +) }
        try f.spool.publish(Array(#"{"problem": "Solve x^2 - 5x + 6 = 0"}"#.utf8), as: "hello.json", to: .incoming)
        #expect(await waitUntil(timeout: 20) { routed() == 1 }, "stderr: \(up.stderr)")
        #expect(up.stderr.contains("ingest  | {"))

        // kill -9: the supervisor starts a new one.
        kill(ingest, SIGKILL)
        var second: pid_t?
        #expect(await waitUntil(timeout: 20) {
            second = ingestPID(under: up.child.pid)
            return second != nil && second != ingest
        }, "stderr: \(up.stderr)")
        seen.formUnion(children(of: up.child.pid).map(\.pid))
        #expect(up.stderr.contains("exited unexpectedly; restarting it"))
        try f.spool.publish(Array(#"{"problem": "Integrate sin(x) from 0 to pi"}"#.utf8), as: "again.json", to: .incoming)
        #expect(await waitUntil(timeout: 20) { routed() == 2 }, "stderr: \(up.stderr)")

        // SIGTERM: everything stops, up exits 0.
        up.child.signal(SIGTERM)
        let t = await up.finish(timeout: 30)
        #expect(t == .exited(0), "stderr: \(up.stderr)")
        #expect(up.stderr.contains("every daemon has stopped"))
        for pid in seen { #expect(!isRunning(pid), "daemon \(pid) still runs") }
    }
}
