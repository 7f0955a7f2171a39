// Real renders inside the real sandbox: a MathTex scene becomes a playable
// video, and code that reaches for the network, the host's files or the
// daemon's environment finds nothing there; one size cap covers every byte a
// sandbox can write, the kernel interfaces a scene never needs are refused,
// each sandbox runs on its share of the CPUs, and untrusted code never runs as
// root, wherever the Python environment lives.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSandbox
import MathreelSpool
import MathreelSystem
import RenderService
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

func sceneCode(_ body: String) -> String {
    "from manim import *\n\nclass Demo(Scene):\n    def construct(self):\n"
        + body.split(separator: "\n").map { "        " + $0 }.joined(separator: "\n") + "\n"
}

/// Runs `body` as a scene in the sandbox; returns the result and what came out as the video.
func render(_ body: String, quality: String = "low", format: String = "mp4", limits: SandboxLimits = SandboxLimits()) async throws -> (SandboxResult, ScratchFile) {
    var sandbox = Sandbox(python: manimPython)
    sandbox.limits = limits
    let worker = try sandbox.start()
    let r = try await worker.render(["code": .string(sceneCode(body)), "scene": .string("Demo"),
                                     "quality": .string(quality), "format": .string(format)])
    return (r, worker.video)
}

/// Saves what a sandbox wrote as a file in `dir`, for ffprobe.
func saved(_ video: ScratchFile, in dir: TempDir, as name: String) throws -> String {
    try PlainFile.copy(fd: video.fd, to: dir.path + "/" + name)
    return dir.path + "/" + name
}

func probe(_ file: String) async throws -> JSONObject {
    let r = try await runCommand("/usr/bin/ffprobe", ["-v", "error", "-print_format", "json", "-show_streams", "-show_format", file])
    guard case .object(let o)? = try? JSONValue.parse(Array(r.stdout.utf8)) else { return [:] }
    return o
}

@Suite struct SandboxTests {
    @Test func aMathTexSceneBecomesAnH264Video() async throws {
        let (r, out) = try await render("eq = MathTex(r\"x^2 - 5x + 6 = 0\")\nself.play(Write(eq))\nself.wait(0.5)")
        #expect(r.report?["ok"] == .bool(true), "\(r.log.suffix(3000))")
        let dir = TempDir("mathreel-video")
        let info = try await probe(try saved(out, in: dir, as: "video.mp4"))
        guard case .array(let streams)? = info["streams"], let v = streams.first?.objectValue else { Issue.record("no stream"); return }
        #expect(v["codec_name"] == .string("h264"))
        #expect(v["height"]?.intValue == 480)
        #expect(v["pix_fmt"] == .string("yuv420p"))
    }

    @Test func theNetworkTheHostAndTheDaemonsSecretsAreOutOfReach() async throws {
        setenv("MATHREEL_CANARY_SECRET", "canary-77e1", 1)
        defer { unsetenv("MATHREEL_CANARY_SECRET") }
        // No static check here: the sandbox alone must hold.
        let probeCode = """
            import os, socket
            found = []
            for target in [("127.0.0.1", 8080), ("1.1.1.1", 80)]:
                s = socket.socket()
                s.settimeout(2)
                try:
                    s.connect(target)
                    found.append("connected %s" % (target,))
                except OSError:
                    pass
            # PID 1 in the sandbox's own PID namespace is its init: readable, but it holds no secret.
            if "canary" in open("/proc/1/environ").read():
                found.append("canary in /proc/1/environ")
            for path in ["/etc/passwd", "/etc/shadow", "\(TempDir().path)", "/root", "/var/spool"]:
                try:
                    open(path).read(10)
                    found.append("read " + path)
                except OSError:
                    pass
            found += [k for k, v in os.environ.items() if "canary" in v]
            try:
                open("/usr/evil", "w")
                found.append("wrote /usr")
            except OSError:
                pass
            self.add(Text(",".join(found) or "nothing"))
            raise RuntimeError("FOUND:" + ",".join(found))
            """
        let (r, _) = try await render(probeCode)
        #expect(r.report?["ok"] == .bool(false))
        let message = r.report?["message"]?.stringValue ?? ""
        #expect(message == "FOUND:", "the sandbox let through: \(message) \(r.log.suffix(2000))")
        #expect(!r.log.contains("canary-77e1"))
    }

    @Test func everyProcessOfAWaitingRunnerIsUnprivilegedOnTheHost() async throws {
        let worker = try Sandbox(python: manimPython).start()
        defer { worker.stop() }
        // Seen from the host: the runner's whole tree, down to the Python that will run the
        // scene, runs as nobody when the daemon is root, else as the daemon's own user.
        let expected = geteuid() == 0 ? Sandbox.nobody : geteuid()
        var tree: [Int32] = []
        let ready = await waitUntil(timeout: 30) {
            tree = descendants(of: worker.pid)
            // Python itself, not a process whose arguments still hold its command line (the root
            // stage's `sh` for an environment under a closed directory, before it execs on).
            return tree.contains { pid in
                let args = ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").split(separator: "\0")
                return args.first.map { $0.split(separator: "/").last?.hasPrefix("python") == true } == true && args.dropFirst().starts(with: ["-I", "-B", "-c"])
            }
        }
        #expect(ready, "the runner's Python started: \(tree)")
        for pid in [worker.pid] + tree {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            let uids = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(separator: "\t").dropFirst().compactMap { UInt32($0) } ?? []
            #expect(!uids.isEmpty && uids.allSatisfy { $0 == expected }, "pid \(pid): \(uids)")
        }
    }

    @Test func aThreeDSceneAtHighQualityIs1080pAt60fps() async throws {
        let code = """
            from manim import *

            class Demo(ThreeDScene):
                def construct(self):
                    self.set_camera_orientation(phi=70 * DEGREES, theta=30 * DEGREES)
                    self.add(ThreeDAxes())
                    self.play(Create(Cube(side_length=2)), run_time=0.3)
            """
        let worker = try Sandbox(python: manimPython).start()
        let r = try await worker.render(["code": .string(code), "scene": .string("Demo"), "quality": .string("high"), "format": .string("mp4")])
        #expect(r.report?["ok"] == .bool(true), "\(r.log.suffix(2000))")
        let dir = TempDir("mathreel-video")
        let info = try await probe(try saved(worker.video, in: dir, as: "video.mp4"))
        guard case .array(let streams)? = info["streams"], let v = streams.first?.objectValue else { Issue.record("no stream"); return }
        #expect(v["height"]?.intValue == 1080 && v["width"]?.intValue == 1920)
        #expect(v["avg_frame_rate"] == .string("60/1"))
    }

    @Test func untrustedCodeNeverRunsAsRootWhereverThePythonLives() async throws {
        // A venv under a directory only its owner may enter: a checkout under /root, or a
        // clone into `mktemp -d` (mode 0700).
        let dir = TempDir("mathreel-closed")
        let made = try await runCommand("/usr/bin/python3", ["-m", "venv", "--without-pip", dir.path + "/venv"])
        #expect(made.status.succeeded, "\(made.stderr)")
        chmod(dir.path, 0o700)
        let open = Sandbox(python: manimPython), closed = Sandbox(python: dir.path + "/venv/bin/python")
        // Seen from the host, the sandbox's user is nobody when the daemon is root, else the daemon's own.
        let expected = geteuid() == 0 ? Sandbox.nobody : geteuid()
        for sandbox in [open, closed] {
            #expect(sandbox.stepDownTo == (geteuid() == 0 ? Sandbox.nobody : nil))
            #expect(sandbox.refusal == nil, "\(sandbox.refusal ?? "")")
            #expect(sandbox.command().contains("--nproc=\(sandbox.limits.processes)"))
            let marker = "mathreel-marker-\(UInt64.random(in: 0...UInt64.max))"
            async let run = sandbox.execute([sandbox.python, "-I", "-c", "import sys, time\nprint(sys.prefix, flush=True)\ntime.sleep(3)\n# " + marker],
                                            wallSeconds: 60)
            // Seen from the host (inside, bwrap's nested user namespace shows its own ids), once
            // the Python runs: every process of the chain from bwrap down.
            var seen: [Int32: [UInt32]] = [:]
            _ = await waitUntil(timeout: 20) {
                seen = hostUIDs(ofProcessesNaming: marker)
                return seen.keys.contains { (try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8))?.hasPrefix(sandbox.python + "\0") == true }
            }
            let (end, timedOut, log) = try await run
            #expect(end.succeeded && !timedOut, "\(sandbox.python): \(log)")
            #expect(!seen.isEmpty && seen.values.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 == expected } },
                    "\(sandbox.python) runs as \(seen) on the host, not \(expected)")
            #expect(log.contains(String(sandbox.python.dropLast("/bin/python".count))), "the environment is there: \(log)")
        }
    }

    @Test func aRootDaemonRefusesAnEnvironmentNobodyMayRead() async throws {
        let dir = TempDir("mathreel-unreadable")
        let made = try await runCommand("/usr/bin/python3", ["-m", "venv", "--without-pip", dir.path + "/venv"])
        #expect(made.status.succeeded, "\(made.stderr)")
        chmod(dir.path + "/venv/pyvenv.cfg", 0o600)
        let sandbox = Sandbox(python: dir.path + "/venv/bin/python")
        if geteuid() == 0 {
            let refusal = sandbox.refusal ?? ""
            #expect(refusal.contains(dir.path + "/venv/pyvenv.cfg") && refusal.contains("chmod -R o+rX"), "names the file and the fix: \(refusal)")
        } else {
            #expect(sandbox.refusal == nil, "not root: the sandbox maps back to the daemon's own user, who reads it")
        }
    }

    @Test func theWholeWritableSpaceSharesOneCap() async throws {
        var sandbox = Sandbox(python: manimPython)
        sandbox.limits.workBytes = 48 << 20
        // Up to 8 files of 16 MB in every place a scene might write; only /job (with /tmp and
        // /dev/shm inside it) takes anything, and all of it together stops at the cap.
        let script = """
            import os
            total, places = 0, {}
            chunk = b"x" * (1 << 20)
            for d in ["/", "/dev", "/dev/shm", "/tmp", "/job", "/job/tmp", "/var/tmp", "/run", "/home", "/usr", "/proc", "/dev/pts"]:
                for i in range(8):
                    try:
                        os.makedirs(d, exist_ok=True)
                        with open(os.path.join(d, "fill-%d" % i), "wb", buffering=0) as f:
                            for _ in range(16):
                                n = f.write(chunk)
                                total += n
                                places[d] = places.get(d, 0) + n
                                if n < len(chunk):
                                    break
                    except OSError:
                        break
            print("wrote", total, sorted(places.items()))
            """
        let (_, timedOut, log) = try await sandbox.execute([sandbox.python, "-I", "-c", script], wallSeconds: 60)
        #expect(!timedOut)
        let line = try #require(log.split(separator: "\n").first { $0.hasPrefix("wrote ") }, "\(log)")
        let total = Int64(line.split(separator: " ")[1]) ?? .max
        #expect(total <= sandbox.limits.workBytes, "\(line)")
        #expect(total >= sandbox.limits.workBytes - (4 << 20), "the cap itself is usable: \(line)")
    }

    @Test func kernelInterfacesAScenesNeverNeedAreRefused() async throws {
        let sandbox = Sandbox(python: manimPython)
        // Straight into the sandbox, no static check: ctypes reaches every system call.
        let script = """
            import ctypes, errno, os, platform, socket, threading
            libc = ctypes.CDLL(None, use_errno=True)
            nr = {"x86_64": dict(ptrace=101, unshare=272, mount=165, keyctl=250, bpf=321, perf_event_open=298, userfaultfd=323,
                                 io_uring_setup=425, memfd_create=319, personality=135, clone3=435, sched_setaffinity=203,
                                 shmget=29, setns=308, kexec_load=246, init_module=175, add_key=248, process_vm_readv=310),
                  "aarch64": dict(ptrace=117, unshare=97, mount=40, keyctl=219, bpf=280, perf_event_open=241, userfaultfd=282,
                                  io_uring_setup=425, memfd_create=279, personality=92, clone3=435, sched_setaffinity=122,
                                  shmget=194, setns=268, kexec_load=104, init_module=105, add_key=217, process_vm_readv=270)}[platform.machine()]
            mask = ctypes.c_ulong(1)
            args = dict(ptrace=(0, 0, 0, 0), unshare=(0x10000000,), mount=(b"none", b"/job", b"tmpfs", 0, 0), keyctl=(0, 0),
                        bpf=(0, 0, 0), perf_event_open=(0, 0, -1, -1, 0), userfaultfd=(0,), io_uring_setup=(1, 0),
                        memfd_create=(b"x", 0), personality=(0x0040000,), clone3=(0, 0), sched_setaffinity=(0, 8, ctypes.byref(mask)),
                        shmget=(0, 4096, 0o1600), setns=(0, 0), kexec_load=(0, 0, 0, 0), init_module=(0, 0, b""),
                        add_key=(b"user", b"k", b"v", 1, -2), process_vm_readv=(1, 0, 0, 0, 0, 0))
            out = []
            for name, n in sorted(nr.items()):
                ctypes.set_errno(0)
                r = libc.syscall(n, *args[name])
                out.append("%s=%s" % (name, "ok" if r >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")))
            for name, family in [("vsock", 40), ("packet", 17), ("unix", socket.AF_UNIX), ("inet", socket.AF_INET)]:
                try:
                    socket.socket(family, socket.SOCK_DGRAM).close()
                    out.append(name + "=ok")
                except OSError as e:
                    out.append("%s=%s" % (name, errno.errorcode.get(e.errno)))
            print(" ".join(out), flush=True)
            out = []
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
            t = threading.Thread(target=lambda: None); t.start(); t.join()
            out.append("fork=ok thread=ok")
            print(" ".join(out))
            """
        let (end, _, log) = try await sandbox.execute([sandbox.python, "-I", "-c", script], wallSeconds: 60)
        #expect(end.succeeded, "\(log)")
        let results = Dictionary(log.split(whereSeparator: { $0 == "\n" || $0 == " " }).compactMap { pair -> (String, String)? in
            let kv = pair.split(separator: "=")
            return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
        }, uniquingKeysWith: { a, _ in a })
        for name in ["ptrace", "unshare", "mount", "keyctl", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "memfd_create",
                     "personality", "sched_setaffinity", "shmget", "setns", "kexec_load", "init_module", "add_key", "process_vm_readv"] {
            #expect(results[name] == "EPERM", "\(name): \(results[name] ?? "missing") in \(log.suffix(800))")
        }
        #expect(results["clone3"] == "ENOSYS", "clone3 falls back to clone: \(log.suffix(800))")
        #expect(results["vsock"] == "EAFNOSUPPORT" && results["packet"] == "EAFNOSUPPORT", "\(log.suffix(800))")
        #expect(results["unix"] == "ok" && results["inet"] == "ok" && results["fork"] == "ok" && results["thread"] == "ok", "\(log.suffix(800))")
    }

    @Test func eachSandboxRunsOnItsShareOfTheCPUs() async throws {
        // By default each CPU is one render's share; a daemon with fewer renders at once gives each more.
        let script = "import os\nprint(len(os.sched_getaffinity(0)), os.nice(0))"
        var one = Sandbox(python: manimPython)
        one.limits.nice = 10
        var all = Sandbox(python: manimPython)
        all.limits.renders = 1
        all.limits.nice = 10
        for (sandbox, share) in [(one, 1), (all, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))] {
            let (end, _, log) = try await sandbox.execute([sandbox.python, "-I", "-c", script], wallSeconds: 60)
            #expect(end.succeeded, "\(log)")
            let fields = log.split(separator: "\n").last?.split(separator: " ").compactMap { Int($0) } ?? []
            #expect(fields.first == share, "CPUs: \(log)")
            #expect((fields.last ?? 0) >= 10, "niced below the daemons: \(log)")
        }
    }

    @Test func theProcessCapFitsTheDaemonsTaskLimit() {
        // Two renders at once, each forking up to its cap, must leave the daemon its own tasks.
        let cap = Sandbox.processCap(wanted: 256, renders: 2, taskLimit: 512)
        #expect(cap >= 32 && 2 * (cap + Sandbox.sandboxOverhead * 2) + Sandbox.daemonTasks <= 512, "\(cap)")
        #expect(Sandbox.processCap(wanted: 256, renders: 2, taskLimit: nil) == 256)
        #expect(Sandbox.processCap(wanted: 256, renders: Int.max, taskLimit: 512) >= 0)
        #expect(Sandbox.processCap(wanted: 256, renders: 64, taskLimit: 512) < 32, "too many renders for the limit")
    }

    @Test func readingAFileThatGrowsNeverWritesPastTheBuffer() throws {
        // The worst case of a file growing after fstat: /proc/self/smaps says it holds 0 bytes
        // and then reads out hundreds of kilobytes. The read must stay within its buffer.
        let file = try ScratchFile(contents: Array("x".utf8))
        let smaps = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC)
        try #require(smaps >= 0)
        #expect(dup2(smaps, file.fd) == file.fd)
        close(smaps)
        #expect(file.size == 0)
        #expect(file.read(limit: 64 << 20).isEmpty && file.tail(limit: 64 << 20).isEmpty)
        let grown = try ScratchFile(contents: [UInt8](repeating: 0x61, count: 1000))
        #expect(grown.read(limit: 10).count == 10 && grown.read(limit: 1 << 20).count == 1000 && grown.tail(limit: 10).count == 10)
        #expect(grown.read(limit: -1).isEmpty && grown.tail(limit: -5).isEmpty, "a nonsense limit reads nothing")
    }

    @Test func aSceneErrorIsReportedWithItsLine() async throws {
        let (r, _) = try await render("self.play(Write(Circle()))\nx = undefined_name + 1")
        #expect(r.report?["ok"] == .bool(false))
        #expect(r.report?["error"] == .string("NameError"))
        #expect(r.report?["line"]?.intValue == 6)
    }

    @Test func theWallClockTimeoutKillsTheWholeSandbox() async throws {
        var limits = SandboxLimits()
        limits.wallSeconds = 3
        let (r, _) = try await render("import time\ntime.sleep(10**6)", limits: limits)
        #expect(r.timedOut)
        #expect(r.report == nil)
    }
}

@Suite struct WarmPoolTests {
    @Test(.timeLimit(.minutes(2)))
    func aPoolOfOneServesThreeJobsEachInAFreshProcess() async throws {
        let dir = TempDir("mathreel-pool")
        let pool = WarmPool(sandbox: Sandbox(python: manimPython), size: 1, cores: 4)
        await pool.fill()
        #expect(await pool.waiting == 1)
        var pids = Set<Int32>()
        for i in 0..<3 {
            let worker = try await pool.take()
            #expect(await pool.waiting == 1, "a replacement starts as soon as one is taken")
            let r = try await worker.render(["code": .string(sceneCode("self.add(Text(\"job \(i)\"))\nself.wait(0.2)")),
                                             "scene": .string("Demo"), "quality": .string("low"), "format": .string("mp4")])
            #expect(r.report?["ok"] == .bool(true), "\(r.log.suffix(1500))")
            #expect(worker.video.size > 1000, "the video came back through the runner's descriptor")
            #expect(!worker.isAlive, "a runner renders one job and exits")
            await pool.finished()
            pids.insert(worker.pid)
        }
        #expect(pids.count == 3)
        // With every core but one busy rendering, no import starts until a render ends.
        let tight = WarmPool(sandbox: Sandbox(python: manimPython), size: 2, cores: 2)
        await tight.fill()
        let a = try await tight.take()
        #expect(await tight.waiting == 1, "taking one leaves one; the replacement waits for a free core")
        await tight.finished()
        #expect(await tight.waiting == 2)
        a.stop()
        await tight.shutdown()
        await pool.shutdown()
        #expect(await pool.waiting == 0)
    }
}

/// The real, effective, saved and filesystem uids of every process whose command line holds `marker`.
func hostUIDs(ofProcessesNaming marker: String) -> [Int32: [UInt32]] {
    var found: [Int32: [UInt32]] = [:]
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(entry), pid != getpid(),
              let cmdline = try? String(contentsOfFile: "/proc/\(entry)/cmdline", encoding: .utf8), cmdline.contains(marker),
              let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8) else { continue }
        found[pid] = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(separator: "\t").dropFirst().compactMap { UInt32($0) } ?? []
    }
    return found
}

/// Every process below `pid`, from /proc's children lists (one per thread: a child
/// belongs to the thread that started it).
func descendants(of pid: Int32) -> [Int32] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    let children = tasks.flatMap { task in
        ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? "")
            .split(separator: " ").compactMap { Int32($0) }
    }
    return children + children.flatMap { descendants(of: $0) }
}
