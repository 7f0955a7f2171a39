// The issue's hostile list as direct-code jobs through a running mathreel-render:
// each ends in failed/ with a fitting code and message, the daemon keeps serving,
// and a canary secret in the daemon's environment turns up in no file it wrote.
// Then the same reach for `os` with the static check out of the way: the sandbox
// alone holds.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import RenderService
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite struct HostileDaemonTests {
    @Test(.timeLimit(.minutes(4)))
    func everyHostileJobFailsWithAFittingCodeAndTheDaemonKeepsServing() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let rejected = [ErrorCode.codeRejected]
        let cases: [(String, String, [String])] = [
            ("socket to loopback", "import socket\ns = socket.socket()\ns.connect(('127.0.0.1', 22))", rejected),
            ("socket outside", "import socket\nsocket.create_connection(('1.1.1.1', 80))", rejected),
            ("read /etc/passwd", "self.add(Text(open('/etc/passwd').read()[:20]))", rejected),
            ("read the spool", "self.add(Text(open('\(dir.spool)/render').read()))", rejected),
            ("read the state", "self.add(Text(str(open('\(dir.state)/x'))))", rejected),
            ("read /proc/1/environ", "self.add(Text(open('/proc/1/environ').read()))", rejected),
            ("print os.environ", "import os\nprint(os.environ)", rejected),
            ("write outside", "open('/tmp/mathreel-out', 'w').write('x')", rejected),
            ("fork bomb", "import os\nwhile True:\n    os.fork()", rejected),
            ("allocate 20 GB", "x = bytearray(20 * 1024**3)", [ErrorCode.memoryLimit]),
            ("spin", "while True:\n    pass", [ErrorCode.renderTimeout]),
            ("sleep", "import time\ntime.sleep(10**6)", rejected),
            ("10 GB file", "f = open('/job/big', 'wb')\nfor _ in range(10240):\n    f.write(b'x' * (1 << 20))", rejected),
            ("link to shadow", "import os\nos.symlink('/etc/shadow', '/job/video.mp4')", rejected),
            ("kill its parent", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", rejected),
            ("print 1 GB", "for _ in range(1024):\n    print('y' * (1 << 20))", [ErrorCode.renderFailed, ErrorCode.renderTimeout]),
            ("subprocess", "import subprocess\nsubprocess.run(['id'])", rejected),
            ("__import__", "m = __import__('os')\nm.system('id')", rejected),
            ("string building", "b = __builtins__\nm = b['__imp' + 'ort__']('o' + 's')", rejected),
            ("getattr", "import numpy as np\nm = getattr(np, 'o' + 's')", rejected),
            ("numpy's modules", "import numpy as np\nnp.lib.format.os.system('id')", rejected),
            ("manim's modules", "import manim\nmanim.utils.file_ops.os.system('id')", rejected),
        ]
        var expected: [String: (String, [String])] = [:]
        for (name, body, codes) in cases { expected[try submitCode(spool, body, channel: .api)] = (name, codes) }
        let canary = "canary-\(JobID.make())"
        // Long enough for a runner's import on a machine busy with the rest of the suite.
        let daemon = try RenderDaemon.start(dir, ["MATHREEL_RENDER_TIMEOUT_S": "15", "GROQ_API_KEY": canary])
        defer { daemon.child.signal(SIGKILL) }
        let all = await waitUntil(timeout: 150, interval: 0.2) { count(spool, .failed) + count(spool, .deliver) == cases.count }
        #expect(all, "\(daemon.log)")
        for job in jobs(in: spool, .failed) {
            guard let (name, codes) = expected[job.id] else { continue }
            #expect(codes.contains(job.error?.code ?? "-"), "\(name): \(job.error?.code ?? "none"): \(job.error?.message ?? "")")
            #expect(job.error?.message.isEmpty == false)
        }
        #expect(count(spool, .deliver) == 0, "no hostile job produced a video")

        // Still serving: a good job after all of that.
        try submitCode(spool, "self.add(Square())\nself.wait(0.2)", channel: .api)
        #expect(await waitUntil(timeout: 60) { count(spool, .deliver) == 1 })
        #expect(await daemon.stop() == .exited(0))
        let found = try await runCommand("/usr/bin/grep", ["-rl", canary, dir.spool, dir.state])
        #expect(found.stdout.isEmpty, "the canary secret reached: \(found.stdout)")
    }

    @Test func reachingOSAnyWayFindsOnlyTheSandbox() async throws {
        // No static check here: every route to `os` works, and none of it reaches the host.
        let marker = "/tmp/mathreel-reached-\(getpid())"
        let body = """
            import numpy as np, manim, subprocess
            routes = [__import__('o' + 's'), np.lib._npyio_impl.os, getattr(manim.utils.file_ops, 'o' + 's'),
                      __builtins__['__imp' + 'ort__']('o' + 's')]
            reached = 0
            for osm in routes:
                if osm is None:
                    continue
                reached += 1
                osm.system('touch \(marker); cat /etc/shadow > /job/shadow 2>/dev/null')
                try:
                    osm.kill(-1, 9)
                except OSError:
                    pass
            subprocess.run(['sh', '-c', 'echo x > \(marker)'], capture_output=True)
            self.add(Text(str(reached)))
            raise RuntimeError("reached os %d times" % reached)
            """
        let (r, _) = try await render(body)
        #expect(r.report?["message"]?.stringValue == "reached os 4 times", "\(r.log.suffix(1500))")
        #expect(!FileManager.default.fileExists(atPath: marker), "the host's /tmp is untouched")
        #expect(kill(getpid(), 0) == 0)
    }
}
