// `mathreel doctor`: checks what the daemons need on this machine (Manim's
// Python, ffmpeg, LaTeX, bwrap, the spool, inotify limits, free disk) and prints
// each as ok or FAIL with the command that fixes it. Exits 1 if any failed.
// `--security` reports the posture instead (Posture.swift).
import ArgumentParser
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelProviders
import MathreelSandbox
import MathreelSolver
import MathreelSpool
import MathreelVoice
#if canImport(Glibc)
import Glibc
#endif

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check manim, ffmpeg, LaTeX, bwrap, the speech engines, the spool and the inotify limits, and say how to fix what is missing.")

    @OptionGroup var daemon: DaemonOptions

    @Flag(help: "Report the installation's security posture: systemd exposure, the sandbox's limits measured inside one, which secrets each daemon can read.")
    var security = false

    struct Check {
        let name: String
        let ok: Bool
        let detail: String
        var fix: String?
        /// Works, but not as it should: printed, not counted as a failure.
        var warning = false

        static func ok(_ name: String, _ detail: String) -> Check { Check(name: name, ok: true, detail: detail) }
        static func warn(_ name: String, _ detail: String, fix: String) -> Check { Check(name: name, ok: true, detail: detail, fix: fix, warning: true) }
        static func fail(_ name: String, _ detail: String, fix: String) -> Check { Check(name: name, ok: false, detail: detail, fix: fix) }
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        if security {
            for line in await Posture.report(env: env) { Out.line(line) }
            return
        }
        var config: Config
        var checks: [Check] = []
        do {
            config = try daemon.config()
            checks.append(.ok("config", "MATHREEL_* settings read; spool \(config.spool), state \(config.state)"))
        } catch {
            checks.append(.fail("config", "\(error)", fix: "correct the setting in the environment or /etc/mathreel/mathreel.env"))
            config = try Config(environment: ["MATHREEL_SPOOL": daemon.spool ?? env["MATHREEL_SPOOL"] ?? "", "MATHREEL_STATE": daemon.state ?? env["MATHREEL_STATE"] ?? ""])
        }
        print(checks[0])
        for check in [manim, ffmpeg, latex, dvisvgm, bwrap, sandbox, solver] {
            let c = await check(env)
            print(c)
            checks.append(c)
        }
        let v = await voice(config)
        print(v)
        checks.append(v)
        let p = await providers(config)
        print(p)
        checks.append(p)
        for c in Self.spoolChecks(config) {
            print(c)
            checks.append(c)
        }
        if checks.contains(where: { !$0.ok }) {
            Out.line("")
            Out.line("\(checks.filter { !$0.ok }.count) of \(checks.count) checks failed; fix them and run `mathreel doctor` again.")
            throw ExitCode(1)
        }
        Out.line("")
        Out.line("all \(checks.count) checks passed.")
    }

    // Printed as each finishes, so a slow check does not hide the others' answers.
    private func print(_ c: Check) {
        Out.line((c.warning ? "warn " : c.ok ? "ok   " : "FAIL ") + c.name + ": " + c.detail)
        if let fix = c.fix, !c.ok || c.warning { Out.line("     fix: " + fix) }
    }

    // MARK: Programs

    static let texFix = "sudo apt-get install texlive-latex-extra texlive-fonts-extra dvisvgm (or `make setup`)"

    func manim(_ env: [String: String]) async -> Check {
        let python = Config.python(env)
        let fix = env["MATHREEL_PYTHON"].map { $0.isEmpty } == false
            ? "install Manim Community Edition into it (\(python) -m pip install manim), or unset MATHREEL_PYTHON and run `make setup`"
            : "make setup (it creates \(python) with Manim Community Edition), or point MATHREEL_PYTHON at a Python that has it"
        guard let exe = Programs.find(python, environment: env) else {
            return .fail("manim", "no Python at \(python)", fix: fix)
        }
        return await program("manim", exe, ["-c", "import manim; print(manim.__version__)"], timeout: 60, fix: fix) {
            "Manim \($0.firstLine) (\(python))"
        }
    }

    func ffmpeg(_ env: [String: String]) async -> Check {
        await tool("ffmpeg", ["-version"], env: env, fix: "sudo apt-get install ffmpeg (or `make setup`)")
    }

    func latex(_ env: [String: String]) async -> Check {
        await tool("latex", ["--version"], env: env, fix: Self.texFix)
    }

    func dvisvgm(_ env: [String: String]) async -> Check {
        await tool("dvisvgm", ["--version"], env: env, fix: Self.texFix)
    }

    static let usernsFix = "allow unprivileged user namespaces (sudo sysctl -w kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 and later: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for bwrap), or run in a VM/container that permits them"

    func bwrap(_ env: [String: String]) async -> Check {
        guard let exe = Programs.find("bwrap", environment: env) else {
            return .fail("bwrap", "bwrap (bubblewrap, the render sandbox) is not installed", fix: "sudo apt-get install bubblewrap (or `make setup`)")
        }
        return await program("bwrap", exe, ["--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"], timeout: 20,
                             fix: "bwrap cannot create namespaces here: " + Self.usernsFix) { _ in
            "\(exe) can build a sandbox"
        }
    }

    /// The renderer's own sandbox, as every render gets it, importing Manim inside.
    func sandbox(_ env: [String: String]) async -> Check {
        let python = Config.python(env)
        guard access(python, X_OK) == 0 else { return .fail("sandbox", "no Python at \(python) to start in it", fix: "make setup") }
        let sandbox = Sandbox(python: python)
        let who = sandbox.stepDownTo.map { "uid \($0) (nobody, stepped down from root)" } ?? "uid \(geteuid())"
        let result: (Termination, Bool, String)
        do {
            result = try await sandbox.execute([sandbox.python, "-I", "-c", "import manim, sympy; print(manim.__version__)"], wallSeconds: 60)
        } catch {
            return .fail("sandbox", "the render sandbox could not start: \(error)", fix: "sudo apt-get install bubblewrap util-linux (or `make setup`)")
        }
        let (end, timedOut, log) = result
        guard end.succeeded, !timedOut else {
            let why = log.split(separator: "\n").suffix(2).joined(separator: " / ")
            return .fail("sandbox", "a sandboxed Python could not import Manim (\(timedOut ? "timed out" : "\(end)")): \(why)",
                         fix: why.contains("bwrap") ? Self.usernsFix : "check that every directory of \(python)'s environment is readable by others, or run `make setup` again")
        }
        // mathreel-render refuses to start on this (untrusted code never runs as root): a failure, not a warning.
        if let refusal = sandbox.refusal {
            return .fail("sandbox", refusal, fix: "follow the sentence above, then run `mathreel doctor` again")
        }
        return .ok("sandbox", "renders run as \(who) with no network, a cleared environment and at most \(sandbox.limits.processes) processes; Manim imports inside")
    }

    /// Each speech engine of MATHREEL_TTS says a sentence in English in the render sandbox.
    func voice(_ config: Config) async -> Check {
        let settings: SpeechSettings
        do { settings = try SpeechSettings(environment: config.environment) } catch {
            return .fail("voice", "\(error)", fix: "correct MATHREEL_TTS or MATHREEL_VOICE")
        }
        let speaker = Speaker(sandbox: Sandbox(python: config.python), state: config.state)
        var said: [String] = [], failed: [String] = []
        for v in settings.voices(language: "en", asked: nil).voices {
            do {
                switch try await speaker.probe(v) {
                case .success(let t): said.append("\(v) (\(String(format: "%.1f", t.speech)) s of speech in \(String(format: "%.1f", t.wall)) s)")
                case .failure(let f): failed.append(f.description)
                }
            } catch { failed.append("\(v): \(error)") }
        }
        let fix = "make setup (it installs espeak-ng, piper-tts and the Joe voice), or set MATHREEL_TTS to the engines you have"
        if said.isEmpty { return .fail("voice", "no speech engine spoke: \(failed.joined(separator: "; "))", fix: fix) }
        if !failed.isEmpty { return .warn("voice", "spoke: \(said.joined(separator: ", ")); failed: \(failed.joined(separator: "; "))", fix: fix) }
        return .ok("voice", "spoke, with no network: \(said.joined(separator: ", "))")
    }

    /// The offline solver, as codegen runs it: a known problem and its answer.
    func solver(_ env: [String: String]) async -> Check {
        let solver = OfflineSolver(python: Config.python(env), timeout: 60)
        defer { Task { await solver.stop() } }
        switch await solver.solve("Solve x^2 - 5x + 6 = 0") {
        case .solved(let s) where s.answer == "x = 2, x = 3":
            return .ok("solver", "the offline solver answers \"Solve x^2 - 5x + 6 = 0\" with \(s.answer)")
        case .solved(let s):
            return .fail("solver", "the offline solver answered \(s.answer) to \"Solve x^2 - 5x + 6 = 0\"", fix: "reinstall the Manim environment: make setup (SymPy 1.14 is pinned)")
        case .unsupported(let m), .unavailable(let m):
            return .fail("solver", "the offline solver did not answer: \(m)", fix: "make setup (it installs SymPy into the Manim environment)")
        }
    }

    /// The code-writing chain from the settings, and any provider whose breaker is open.
    func providers(_ config: Config) async -> Check {
        let settings = ProviderSettings(environment: config.environment)
        let chain = settings.chain.map(\.rawValue).joined(separator: " → ")
        if !settings.problems.isEmpty {
            return .fail("providers", "chain \(chain); MATHREEL_PROVIDERS: \(settings.problems.joined(separator: "; "))",
                         fix: "set the missing keys or URLs in /etc/mathreel/mathreel.env, or take the names out of MATHREEL_PROVIDERS")
        }
        let breakers = Breakers(file: config.state + "/breakers.json")
        var open: [String] = []
        for name in settings.chain where name != .offline {
            let b = await breakers.state(name)
            if b.state != .closed { open.append("\(name.rawValue) until \(b.openUntil.map { Timestamp.string($0) } ?? "?") (\(b.reason ?? ""))") }
        }
        if !open.isEmpty {
            return .warn("providers", "chain \(chain); resting now: \(open.joined(separator: "; "))", fix: "nothing to do if it is a quota or rate limit: the breaker lets a trial call through when the time is up; otherwise check the key and the model")
        }
        return .ok("providers", settings.chain == [.offline] ? "chain: offline only (no provider key set; see README, Writing the code)" : "chain \(chain)")
    }

    private func tool(_ name: String, _ args: [String], env: [String: String], fix: String) async -> Check {
        guard let exe = Programs.find(name, environment: env) else {
            return .fail(name, "\(name) is not installed (not found on PATH)", fix: fix)
        }
        return await program(name, exe, args, timeout: 20, fix: fix) { $0.firstLine }
    }

    private func program(_ name: String, _ exe: String, _ args: [String], timeout: Double, fix: String,
                         ok detail: (ProgramResult) -> String) async -> Check {
        let result: ProgramResult
        do { result = try await Programs.run(exe, args, timeout: timeout) } catch {
            return .fail(name, "\(error)", fix: fix)
        }
        guard let t = result.termination else {
            return .fail(name, "`\(Self.shellLine(exe, args))` did not finish in \(Int(timeout)) s", fix: fix)
        }
        if t.succeeded { return .ok(name, detail(result)) }
        let why = result.stderr.split(separator: "\n").suffix(2).joined(separator: " / ")
        return .fail(name, "`\(Self.shellLine(exe, args))` \(t)" + (why.isEmpty ? "" : ": \(why)"), fix: fix)
    }

    /// The command as a person would type it.
    static func shellLine(_ exe: String, _ args: [String]) -> String {
        ([(exe as NSString).lastPathComponent] + args.map { $0.contains(" ") || $0.contains(";") ? "\"\($0)\"" : $0 }).joined(separator: " ")
    }

    // MARK: The spool, inotify, disk

    static func spoolChecks(_ config: Config) -> [Check] {
        [spoolCheck(config.spool), inotifyCheck(), diskCheck(config)]
    }

    static func spoolCheck(_ root: String) -> Check {
        let dirs = [""] + Place.all.map(\.path) + ["artifacts"]
        var st = stat()
        guard stat(root, &st) == 0 else {
            return .fail("spool", "there is no spool at \(root)", fix: "start `mathreel up` once (the daemons create it), or give the right place with --spool / MATHREEL_SPOOL")
        }
        var tmpStat = stat()
        let tmpDev: UInt64? = stat(root + "/tmp", &tmpStat) == 0 ? UInt64(tmpStat.st_dev) : nil
        var missing: [String] = [], readOnly: [String] = [], elsewhere: [String] = []
        for d in dirs {
            let path = d.isEmpty ? root : root + "/" + d
            var s = stat()
            guard lstat(path, &s) == 0, (s.st_mode & S_IFMT) == S_IFDIR else { missing.append(d.isEmpty ? "." : d + "/"); continue }
            if access(path, W_OK | X_OK) != 0 { readOnly.append(d.isEmpty ? "." : d + "/") }
            if let tmpDev, UInt64(s.st_dev) != tmpDev { elsewhere.append(d.isEmpty ? "." : d + "/") }
        }
        let user = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid \(geteuid())"
        if !missing.isEmpty {
            return .fail("spool", "\(root) lacks \(missing.joined(separator: ", "))",
                         fix: "start `mathreel up` once (the daemons create every directory), or mkdir them")
        }
        if !readOnly.isEmpty {
            return .fail("spool", "\(user) cannot write to \(readOnly.map { root + "/" + $0 }.joined(separator: ", "))",
                         fix: "sudo chown -R \(user) \(root) (installed: add \(user) to the mathreel group and make the directories group-writable: sudo chmod -R g+rwX \(root))")
        }
        if !elsewhere.isEmpty {
            return .fail("spool", "\(elsewhere.joined(separator: ", ")) are on another filesystem than tmp/, so moving a job there is not an atomic rename",
                         fix: "keep the whole spool on one filesystem: no mount points inside \(root)")
        }
        return .ok("spool", "\(root): every directory exists, is writable by \(user), and sits on one filesystem")
    }

    static func inotifyCheck(base: String = "/proc/sys/fs/inotify") -> Check {
        func read(_ key: String) -> Int? {
            (try? String(contentsOfFile: base + "/" + key, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let needs = [("max_user_watches", 8_192), ("max_user_instances", 16), ("max_queued_events", 16_384)]
        var low: [String] = [], seen: [String] = [], fixes: [String] = []
        for (key, minimum) in needs {
            guard let v = read(key) else { low.append("\(key) unreadable"); continue }
            seen.append("\(key)=\(v)")
            if v < minimum {
                low.append("\(key) is \(v), below \(minimum)")
                fixes.append("fs.inotify.\(key)=\(max(minimum, key == "max_user_watches" ? 524_288 : minimum * 8))")
            }
        }
        if low.isEmpty { return .ok("inotify", seen.joined(separator: ", ")) }
        let settings = fixes.isEmpty ? "check that /proc/sys/fs/inotify is readable (is this Linux?)" :
            "sudo sysctl -w \(fixes.joined(separator: " ")); to keep it after a reboot: printf '%s\\n' \(fixes.map { "'\($0)'" }.joined(separator: " ")) | sudo tee /etc/sysctl.d/90-mathreel.conf"
        return .fail("inotify", low.joined(separator: "; "), fix: settings)
    }

    static func diskCheck(_ config: Config) -> Check {
        // The spool, or the nearest directory above it that exists.
        var path = config.spool
        var s = statvfs()
        while statvfs(path, &s) != 0 {
            let parent = (path as NSString).deletingLastPathComponent
            if parent == path || parent.isEmpty { path = "."; _ = statvfs(path, &s); break }
            path = parent
        }
        let free = Int64(s.f_bavail) * Int64(s.f_frsize)
        let need = config.minFreeBytes
        let guardUp = (try? Spool(root: config.spool, create: false)).flatMap { DiskGuard.raisedReason($0) }
        if free < need {
            return .fail("disk", "\(Words.bytes(free)) free at \(path); new work is refused below \(Words.bytes(need))",
                         fix: "free some space on that filesystem (old videos in \(config.state), logs), or lower MATHREEL_MIN_FREE_BYTES")
        }
        if let guardUp {
            return .fail("disk", "\(Words.bytes(free)) free (at least \(Words.bytes(need)) needed), but the disk guard is still up, so new jobs are refused: \(guardUp)",
                         fix: "run the janitor (`mathreel up`): its next sweep lowers the guard when there is room again")
        }
        return .ok("disk", "\(Words.bytes(free)) free at \(path) (new work is refused below \(Words.bytes(need)))")
    }
}
