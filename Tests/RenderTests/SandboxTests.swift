// Real renders inside the real sandbox: a MathTex scene becomes a playable
// video, and code that reaches for the network, the host's files or the
// daemon's environment finds nothing there.
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
            return tree.contains { (try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8))?.contains("-I\0-B\0-c") == true }
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

    @Test func aRootDaemonStepsDownUnlessThePythonIsClosedToOthers() throws {
        let open = Sandbox(python: manimPython)
        let dir = TempDir("mathreel-closed")
        try FileManager.default.createDirectory(atPath: dir.path + "/venv/bin", withIntermediateDirectories: true)
        chmod(dir.path, 0o700)
        let closed = Sandbox(python: dir.path + "/venv/bin/python")
        if geteuid() == 0 {
            #expect(open.stepDownTo == Sandbox.nobody && open.warning == nil)
            #expect(closed.stepDownTo == nil)
            #expect(closed.warning?.contains(dir.path) == true, "the warning names the closed directory: \(closed.warning ?? "")")
            #expect(open.command().contains("/usr/bin/setpriv") && !closed.command().contains("/usr/bin/setpriv"))
        } else {
            #expect(open.stepDownTo == nil && closed.stepDownTo == nil && closed.warning == nil, "not root: nothing to step down from")
        }
        #expect(open.command().contains("--nproc=\(SandboxLimits().processes)"))
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
