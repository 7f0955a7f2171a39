// The issue's hostile list as direct-code jobs through a running mathreel-render:
// each ends in failed/ with a fitting code and message, the daemon keeps serving,
// and a canary secret in the daemon's environment turns up in no file it wrote.
// Then the same reach for `os` with the static check out of the way: the sandbox
// alone holds. A daemon starved of tasks fails its jobs and keeps serving, and a
// root daemon whose environment nobody could read refuses to start.
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

    @Test(.timeLimit(.minutes(4)))
    func aDaemonOutOfTasksFailsItsJobsNotItself() async throws {
        // The render unit's TasksMax filled up (two fork bombs at once did it): the next thread
        // or process the daemon starts is refused. Here a pids cgroup does the same, to the task.
        guard let group = PidsGroup.make() else { return }  // needs root and a pids controller
        defer { group.remove() }
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let daemon = try RenderDaemon.start(dir, ["MATHREEL_RENDER_TIMEOUT_S": "30", "MATHREEL_MAX_CONCURRENT_RENDERS": "2"])
        defer { daemon.child.signal(SIGKILL) }
        // Serving (its watches run) with a runner waiting: then the tasks run out.
        let warm = await waitUntil(timeout: 60) {
            daemon.log.contains("\"msg\":\"ready\"") && descendants(of: daemon.child.pid).contains {
                (try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8))?.contains("-I\0-B\0-c") == true
            }
        }
        #expect(warm, "ready, a runner waiting: \(daemon.log)")
        try group.add(daemon.child.pid)
        // One task left: whatever the daemon starts after it (a thread or a process) is refused.
        try group.limit(group.current() + 1)
        var ids: [String] = []
        for i in 0..<4 { ids.append(try submitCode(spool, "self.add(Text(\"\(i)\"))\nself.wait(0.2)")) }
        let settled = await waitUntil(timeout: 120, interval: 0.2) {
            count(spool, .render) + count(spool, .active(.render)) == 0
        }
        #expect(daemon.child.termination == nil, "the daemon survived: \(daemon.log)")
        #expect(settled, "every job was answered: \(daemon.log)")
        // Each job failed with its reason, or waits for another try with it.
        for job in jobs(in: spool, .failed) where ids.contains(job.id) {
            #expect(job.error?.message.isEmpty == false, "\(job.id): \(job.error?.code ?? "no error")")
        }
        for job in jobs(in: spool, .deferred(.render)) where ids.contains(job.id) {
            #expect(job.history.last?.note?.contains("failed (") == true, "\(job.id): \(job.history.last?.note ?? "no note")")
        }
        try group.limit(nil)
        let good = try submitCode(spool, "self.add(Square())\nself.wait(0.2)")
        #expect(await waitUntil(timeout: 90) { jobs(in: spool, .deliver).contains { $0.id == good } }, "serving again: \(daemon.log)")
        let end = await daemon.stop()
        #expect(end == .exited(0), "\(end.map(String.init(describing:)) ?? "still running"): \(daemon.log)")
    }

    @Test func aRootDaemonRefusesToStartWhenNobodyCouldReadTheEnvironment() async throws {
        guard geteuid() == 0 else { return }  // a non-root daemon's sandboxes run as itself
        let dir = TempDir()
        let made = try await runCommand("/usr/bin/python3", ["-m", "venv", "--without-pip", dir.path + "/venv"])
        #expect(made.status.succeeded, "\(made.stderr)")
        chmod(dir.path + "/venv/pyvenv.cfg", 0o600)
        let daemon = try RenderDaemon.start(dir, ["MATHREEL_PYTHON": dir.path + "/venv/bin/python"])
        defer { daemon.child.signal(SIGKILL) }
        let end = await daemon.child.wait(timeout: 20)
        #expect(end != nil && end != .exited(0), "it stopped at once: \(end.map(String.init(describing:)) ?? "still running")")
        #expect(daemon.log.contains("refusing to start") && daemon.log.contains("chmod -R o+rX \(dir.path)/venv"), "one line saying how to fix it: \(daemon.log)")
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

/// A pids cgroup of its own (v1's pids hierarchy, or v2 with the pids controller), for
/// starving one process of tasks; nil when this machine or user cannot make one.
struct PidsGroup {
    let path: String
    let procs: String

    static func make() -> PidsGroup? {
        guard geteuid() == 0 else { return nil }
        let name = "mathreel-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        for (root, procs) in [("/sys/fs/cgroup/pids", "cgroup.procs"), ("/sys/fs/cgroup", "cgroup.procs")] {
            guard access(root + "/cgroup.procs", W_OK) == 0 else { continue }
            if root == "/sys/fs/cgroup" {
                guard let controllers = try? String(contentsOfFile: root + "/cgroup.subtree_control", encoding: .utf8),
                      controllers.contains("pids") else { continue }
            }
            guard mkdir(root + "/" + name, 0o755) == 0 else { continue }
            let group = PidsGroup(path: root + "/" + name, procs: procs)
            if access(group.path + "/pids.max", W_OK) == 0 { return group }
            group.remove()
        }
        return nil
    }

    func write(_ file: String, _ value: String) throws {
        let fd = open(path + "/" + file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ChildError(description: "open \(path)/\(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw ChildError(description: "write \(path)/\(file): \(String(cString: strerror(errno)))") }
    }

    func add(_ pid: pid_t) throws { try write(procs, "\(pid)") }
    func limit(_ tasks: Int?) throws { try write("pids.max", tasks.map(String.init) ?? "max") }
    func current() -> Int { Int(((try? String(contentsOfFile: path + "/pids.current", encoding: .utf8)) ?? "").trimmed()) ?? 0 }

    /// Moves what is left to the parent group, then removes this one.
    func remove() {
        let parent = String(path[..<path.lastIndex(of: "/")!])
        let left = ((try? String(contentsOfFile: path + "/cgroup.procs", encoding: .utf8)) ?? "").split(separator: "\n")
        for pid in left { try? PidsGroup(path: parent, procs: procs).write(procs, String(pid)) }
        _ = rmdir(path)
    }
}
