// Hostile scenes against the sandbox alone (no static check in the way): each
// ends with a fitting error, the host is untouched, and the next render works.
import Foundation
import Logging
import MathreelCore
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
        let body = """
            self.add(Circle())
            self.wait(0.2)
            import os
            os.symlink('/etc/shadow', '/out/video.mp4')
            raise SystemExit(0)
            """
        let (r, dir) = try await render(body)
        // Whatever the runner says, the daemon's reader refuses a link; the host's file is untouched.
        let info = try FileManager.default.attributesOfItem(atPath: dir.path + "/out/video.mp4")
        #expect(info[.type] as? FileAttributeType == .typeSymbolicLink)
        #expect(r.report?["ok"] != .bool(true))
        let fd = open(dir.path + "/out/video.mp4", O_RDONLY | O_NOFOLLOW)
        #expect(fd < 0 && errno == ELOOP, "opened without following: refused")
        if fd >= 0 { close(fd) }
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
}
