// Hostile scenes against the sandbox alone (no static check in the way): each
// ends with a fitting error, the host is untouched, and the next render works.
import Foundation
import Logging
import MathreelCore
import MathreelSandbox
import MathreelSpool
import RenderService
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The renderer's words for a sandbox result (its `describe`), on a throwaway spool.
func verdict(_ r: SandboxResult) throws -> JobError {
    let dir = TempDir("mathreel-verdict")
    var config = try Config(environment: ["MATHREEL_PYTHON": manimPython, "MATHREEL_STATE": dir.state])
    config.spool = dir.spool
    return Renderer(spool: try Spool(root: dir.spool), config: config, logger: Logger(label: "test")).describe(r)
}

@Suite struct HostileTests {
    @Test func allocatingTwentyGigabytesIsAMemoryLimit() async throws {
        let (r, _) = try await render("x = bytearray(20 * 1024**3)")
        #expect(r.report?["error"] == .string("MemoryError"))
        #expect(try verdict(r).code == ErrorCode.memoryLimit)
    }

    @Test func spinningForeverIsStoppedByTheClock() async throws {
        var limits = SandboxLimits()
        limits.wallSeconds = 4
        let (r, _) = try await render("while True:\n    pass", limits: limits)
        #expect(r.timedOut)
    }

    @Test func aTenGigabyteFileStopsAtTheFileSizeLimit() async throws {
        var limits = SandboxLimits()
        limits.fileSize = 32 << 20
        let (r, _) = try await render("f = open('/job/big', 'wb')\nfor _ in range(10 * 1024):\n    f.write(b'x' * 1024 * 1024)", limits: limits)
        #expect(r.report?["ok"] != .bool(true))
        #expect(!r.timedOut)
    }

    @Test func printingAGigabyteIsCappedAndKeepsOnlyTheTail() async throws {
        var limits = SandboxLimits()
        limits.fileSize = 64 << 20
        let (r, _) = try await render("import sys\nfor _ in range(1024):\n    sys.stdout.write('y' * 1024 * 1024)", limits: limits)
        #expect(r.report?["ok"] != .bool(true))
        #expect(r.log.utf8.count <= SandboxLimits().outputCap)
    }

    @Test func replacingTheVideoWithALinkToShadowDeliversNothing() async throws {
        // The runner's movie path, a link in its place, and the old /out: none leads anywhere.
        let body = """
            self.add(Circle())
            self.wait(0.2)
            import os
            d = '/job/media/videos/scene/480p15'
            os.makedirs(d, exist_ok=True)
            for target in [d + '/video.mp4', '/job/video.mp4', '/out/video.mp4']:
                try:
                    os.symlink('/etc/shadow', target)
                except OSError:
                    pass
            """
        let before = try Data(contentsOf: URL(fileURLWithPath: "/etc/shadow"))
        let (_, out) = try await render(body)
        let got = out.read(limit: 1 << 20)
        #expect(got.isEmpty || Data(got).range(of: before.prefix(16)) == nil, "no byte of the host's shadow came out")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "/etc/shadow")) == before)
    }

    @Test func writingOutsideTheWorkDirectoryFails() async throws {
        let marker = "/tmp/mathreel-escape-\(getpid())"
        let (r, _) = try await render("open('\(marker)', 'w').write('x')\nopen('/usr/lib/escape', 'w').write('x')")
        #expect(r.report?["ok"] != .bool(true))
        #expect(!FileManager.default.fileExists(atPath: marker) && !FileManager.default.fileExists(atPath: "/usr/lib/escape"))
    }

    @Test func killingItsParentDoesNotReachTheHost() async throws {
        let (r, _) = try await render("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(1, signal.SIGKILL)\nself.wait(0.1)")
        // Inside its own PID namespace, the parent and PID 1 are the sandbox's own init, which
        // ignores signals from inside: the kills reach nothing outside.
        #expect(r.report != nil, "the sandbox finished and reported: \(r.log.suffix(500))")
        #expect(kill(getppid(), 0) == 0, "the test runner's parent is alive")
        let (after, _) = try await render("self.add(Square())\nself.wait(0.1)")
        #expect(after.report?["ok"] == .bool(true), "the next render still works")
    }

    @Test func numpysToFileFillsNothingButTheCappedWorkDirectory() async throws {
        // The case: ndarray.tofile passes the static check and once filled / and /dev
        // (tmpfs without a size) with gigabytes. Now every place stops at the one cap.
        var limits = SandboxLimits()
        limits.workBytes = 64 << 20
        let body = """
            import numpy as np
            a = np.zeros(16 << 20, dtype=np.uint8)
            written = 0
            for d in ['', '/dev', '/dev/shm', '/tmp', '/job', '/var/tmp']:
                for i in range(6):
                    try:
                        a.tofile('%s/fill-%d' % (d, i))
                        written += a.nbytes
                    except OSError:
                        break
            raise RuntimeError('WROTE:%d' % written)
            """
        let (r, _) = try await render(body, limits: limits)
        let message = r.report?["message"]?.stringValue ?? ""
        let written = Int64(message.split(separator: ":").last ?? "") ?? .max
        #expect(message.hasPrefix("WROTE:") && written <= limits.workBytes, "\(message) \(r.log.suffix(800))")
        let (after, _) = try await render("self.add(Square())\nself.wait(0.1)")
        #expect(after.report?["ok"] == .bool(true), "the next render still works")
    }

    @Test func aForkBombStopsAtTheProcessLimit() async throws {
        var limits = SandboxLimits()
        limits.wallSeconds = 120
        // Forking without end, each child kept alive: only the process cap can stop it.
        let bomb = """
            import os, time
            pids = []
            while True:
                pid = os.fork()
                if pid == 0:
                    time.sleep(600)
                    os._exit(0)
                pids.append(pid)
            """
        let (r, _) = try await render(bomb, limits: limits)
        #expect(!r.timedOut, "the limit, not the clock, stopped it")
        #expect(r.report?["error"] == .string("BlockingIOError"), "\(r.log.suffix(800))")
        #expect(try verdict(r).message.contains("more processes than a render may"))
        // The host can still start processes (the bomb's died with its PID namespace).
        #expect(try await runCommand("/bin/true", []).status.succeeded)
    }
}
