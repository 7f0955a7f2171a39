// `mathreel doctor --security`: the running installation's posture, measured, not
// assumed: each unit's `systemd-analyze security` exposure where systemd runs, the
// render sandbox's limits as seen from inside one, and which secrets each daemon
// can read (the env file's filled-in secrets less each unit's UnsetEnvironment=).
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSandbox
#if canImport(Glibc)
import Glibc
#endif

enum Posture {
    static let daemons = ["ingest", "codegen", "render", "deliver", "janitor"]

    /// A key that holds a secret, by its name (the same rule as the units' test).
    static func isSecret(_ key: String) -> Bool { ["TOKEN", "SECRET", "_KEY", "ACCOUNT_ID"].contains { key.contains($0) } }

    /// `KEY=value` lines of an env file with a value set.
    static func filledKeys(_ text: String) -> Set<String> {
        var out = Set<String>()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            if !line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces).isEmpty { out.insert(key) }
        }
        return out
    }

    /// The names a unit's UnsetEnvironment= lines remove.
    static func unset(_ unit: String) -> Set<String> {
        Set(unit.split(separator: "\n").filter { $0.hasPrefix("UnsetEnvironment=") }
            .flatMap { $0.dropFirst("UnsetEnvironment=".count).split(separator: " ").map(String.init) })
    }

    /// Which filled-in secrets each daemon can read, from the installed units (else the checkout's templates).
    static func secrets(envFile: String, unitDirs: [String]) -> [(daemon: String, readable: [String], unit: String?)] {
        let env = (try? String(contentsOfFile: envFile, encoding: .utf8)).map(filledKeys) ?? []
        let secrets = env.filter(isSecret)
        return daemons.map { d in
            let found = unitDirs.lazy.map { "\($0)/mathreel-\(d).service" }.first { FileManager.default.fileExists(atPath: $0) }
            let removed = found.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }.map(unset) ?? []
            return (d, secrets.subtracting(removed).sorted(), found)
        }
    }

    /// What a sandboxed process sees of its own limits.
    static let probe = """
        echo "uid $(id -u)"; grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/self/status; echo "nproc $(ulimit -u)"; \
        echo "cpus $(nproc)"; for d in / /dev /dev/shm /tmp /job; do if (echo x > $d/.probe) 2>/dev/null; then echo "writable $d"; rm -f $d/.probe; fi; done; \
        (getent hosts example.org >/dev/null 2>&1 || echo "network none"); df -k /job | tail -n 1 | awk '{print "job_kb " $2}'
        """

    static func report(env: [String: String]) async -> [String] {
        var lines: [String] = []
        // systemd
        if FileManager.default.fileExists(atPath: "/run/systemd/system"), let analyze = Programs.find("systemd-analyze", environment: env) {
            for d in daemons {
                let r = try? await Programs.run(analyze, ["security", "--no-pager", "mathreel-\(d).service"], timeout: 30)
                let score = r?.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") }.map(String.init) ?? "not installed"
                lines.append("systemd   mathreel-\(d): \(score.trimmingCharacters(in: .whitespaces))")
            }
        } else {
            lines.append("systemd   not running here: the daemons' own limits (below) are all that apply")
        }
        // the sandbox
        let sandbox = Sandbox(python: Config.python(env))
        do {
            let (end, _, out) = try await sandbox.execute(["/bin/sh", "-c", probe], wallSeconds: 60)
            for l in out.split(separator: "\n") { lines.append("sandbox   \(l)") }
            if !end.succeeded { lines.append("sandbox   the probe ended \(end)") }
        } catch {
            lines.append("sandbox   could not start: \(error)")
        }
        lines.append("sandbox   host uid \(sandbox.stepDownTo.map { String($0) } ?? String(geteuid()))")
        lines.append("sandbox   configured: cpu \(sandbox.limits.cpuSeconds) s, address space \(sandbox.limits.addressSpace >> 20) MB, writable \(sandbox.limits.workBytes >> 20) MB, processes \(sandbox.limits.processes)")
        // secrets
        let envFile = env["MATHREEL_ENV_FILE"] ?? "/etc/mathreel/mathreel.env"
        for s in secrets(envFile: envFile, unitDirs: ["/etc/systemd/system", "/usr/lib/systemd/system", "systemd"]) {
            let what = s.readable.isEmpty ? "no secret" : s.readable.joined(separator: ", ")
            lines.append("secrets   mathreel-\(s.daemon) can read \(what)" + (s.unit.map { " (\($0))" } ?? " (no unit found: it would read every secret in \(envFile))"))
        }
        return lines
    }
}
