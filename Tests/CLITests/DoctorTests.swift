// `mathreel doctor`: every check is reported as ok or FAIL (manim and friends
// may well be missing here), the exit status is 1 exactly when one failed, and
// every FAIL carries its fix.
import Foundation
import TestSupport
import Testing
@testable import MathreelCommand

@Suite struct DoctorTests {
    @Test func reportsEveryCheck() async throws {
        let f = try CLIFixture()
        let r = try await f.run("doctor", timeout: 90)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        for name in ["config", "manim", "ffmpeg", "latex", "dvisvgm", "bwrap", "sandbox", "voice", "solver", "providers", "spool", "inotify", "disk"] {
            #expect(lines.contains { l in ["ok   ", "warn ", "FAIL "].contains { l.hasPrefix($0 + name + ": ") } }, "no \(name) line in:\n\(r.stdout)")
        }
        #expect(lines.contains { $0.hasPrefix("ok   spool: \(f.dir.spool): every directory exists") })
        let failed = lines.contains { $0.hasPrefix("FAIL ") }
        #expect(r.status == .exited(failed ? 1 : 0), "stdout:\n\(r.stdout)\nstderr:\n\(r.stderr)")
        // Every FAIL says how to fix it.
        for (i, line) in lines.enumerated() where line.hasPrefix("FAIL ") {
            #expect(i + 1 < lines.count && lines[i + 1].hasPrefix("     fix: "), "no fix after: \(line)")
        }
    }

    @Test func anOperatorsVoiceTheEngineLacksIsNamedAndItsDefaultSpeaks() async throws {
        let f = try CLIFixture()
        var env = f.environment
        env["MATHREEL_TTS"] = "espeak"
        env["MATHREEL_VOICE"] = "espeak:no-such-voice"
        let r = try await runCommand(Binaries.path("mathreel"), ["doctor"], environment: env, timeout: 90)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        // The operator's voice is refused by name; the engine's own English voice still speaks.
        let line = try #require(lines.first { $0.contains(" voice: ") }, "\(r.stdout)")
        #expect(line.hasPrefix("warn voice: spoke: espeak:en-us") && line.contains("no espeak-ng voice 'no-such-voice'"), "\(line)")
    }

    @Test func failsOnAMissingSpool() async throws {
        let f = try CLIFixture()
        let r = try await runCommand(Binaries.path("mathreel"), ["doctor", "--spool", f.dir.path + "/nowhere"], environment: f.environment, timeout: 90)
        #expect(r.status == .exited(1))
        #expect(r.stdout.contains("FAIL spool: there is no spool at \(f.dir.path)/nowhere"))
    }

    @Test func inotifyLimitsBelowTheMinimumSayTheSysctl() throws {
        let dir = TempDir("mathreel-inotify")
        for (key, value) in [("max_user_watches", "4096"), ("max_user_instances", "128"), ("max_queued_events", "16384")] {
            try value.write(toFile: dir.path + "/" + key, atomically: true, encoding: .utf8)
        }
        let check = Doctor.inotifyCheck(base: dir.path)
        #expect(!check.ok)
        #expect(check.detail.contains("max_user_watches is 4096, below 8192"))
        #expect(check.fix?.contains("sudo sysctl -w fs.inotify.max_user_watches=524288") == true)
        try "8192".write(toFile: dir.path + "/max_user_watches", atomically: true, encoding: .utf8)
        #expect(Doctor.inotifyCheck(base: dir.path).ok)
    }

    /// The posture report: the sandbox measured from inside one, and each daemon's readable secrets.
    @Test(.timeLimit(.minutes(2)))
    func securityReportsTheSandboxAsMeasuredAndEachDaemonsSecrets() async throws {
        let f = try CLIFixture()
        let envFile = f.dir.path + "/mathreel.env"
        try "GROQ_API_KEY=gsk_x\nTELEGRAM_BOT_TOKEN=123:abc\nWHATSAPP_APP_SECRET=\nMATHREEL_API_SECRET=s\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        var env = f.environment
        env["MATHREEL_ENV_FILE"] = envFile
        env["MATHREEL_PYTHON"] = manimPython
        let r = try await runCommand(Binaries.path("mathreel"), ["doctor", "--security"], environment: env, timeout: 90)
        #expect(r.status == .exited(0), "\(r.stdout)\n\(r.stderr)")
        let out = r.stdout
        #expect(out.contains("secrets   mathreel-render can read no secret"), "\(out)")
        #expect(out.contains("secrets   mathreel-janitor can read no secret"), "\(out)")
        #expect(out.contains("secrets   mathreel-codegen can read GROQ_API_KEY ("), "\(out)")
        #expect(out.contains("secrets   mathreel-deliver can read TELEGRAM_BOT_TOKEN ("), "\(out)")
        #expect(out.contains("secrets   mathreel-ingest can read MATHREEL_API_SECRET, TELEGRAM_BOT_TOKEN ("), "\(out)")
        // Measured inside a sandbox: never root, no network.
        #expect(out.contains("sandbox   host uid "), "\(out)")
        #expect(!out.contains("sandbox   host uid 0\n"), "untrusted code never runs as root on the host: \(out)")
        #expect(out.contains("sandbox   network none"), "\(out)")
    }
}
