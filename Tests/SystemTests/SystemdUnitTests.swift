// The systemd/ folder: the unit templates load cleanly (`systemd-analyze
// verify` prints nothing), every service scores 2.0 or better in
// `systemd-analyze security`, the units keep the invariants the daemons rely
// on, and the sysusers.d, tmpfiles.d and env example files are what they claim.
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

enum SystemdFolder {
    /// <repo>/systemd, found from this file: <repo>/Tests/SystemTests/SystemdUnitTests.swift.
    static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("systemd").path
    static let daemons = ["ingest", "codegen", "render", "deliver", "janitor"]
    static let services = daemons.map { "mathreel-\($0).service" }
    static let units = services + ["mathreel.target"]

    static func read(_ name: String) throws -> String {
        try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
    }

    /// The tools come from Debian's `systemd` package; a missing one is a failure, not a skip.
    static func tool(_ name: String) throws -> String {
        for dir in ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] where FileManager.default.isExecutableFile(atPath: dir + "/" + name) {
            return dir + "/" + name
        }
        let found = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "\(name) is missing: install the `systemd` package (apt-get install systemd)")
    }

    /// The caller's environment without SYSTEMD_LOG_LEVEL (which would add or hide
    /// output), no colours and no pager.
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["SYSTEMD_LOG_LEVEL"] = nil
        env["SYSTEMD_COLORS"] = "0"
        env["SYSTEMD_PAGER"] = ""
        env["SYSTEMD_LESS"] = nil
        return env
    }

    /// Renders every template into `dir`/units with @BINDIR@ = `dir`/bin, where each
    /// daemon is the built binary if there is one, else a copy of /usr/bin/true.
    static func render(into dir: TempDir) throws -> String {
        let fm = FileManager.default
        let bin = dir.path + "/bin", out = dir.path + "/units"
        try fm.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        for daemon in daemons {
            let name = "mathreel-" + daemon, built = Binaries.path(name), target = bin + "/" + name
            if fm.isExecutableFile(atPath: built) {
                try fm.createSymbolicLink(atPath: target, withDestinationPath: built)
            } else {
                try fm.copyItem(atPath: "/usr/bin/true", toPath: target)
                try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: target)
            }
        }
        for unit in units {
            let text = try read(unit).replacingOccurrences(of: "@BINDIR@", with: bin)
            try text.write(toFile: out + "/" + unit, atomically: true, encoding: .utf8)
        }
        return out
    }

    /// A unit file's directives: section → [(key, value)], in order; comment lines dropped.
    static func directives(_ text: String) -> [String: [(key: String, value: String)]] {
        var result: [String: [(key: String, value: String)]] = [:]
        var section = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") { section = String(line.dropFirst().dropLast()); continue }
            guard let eq = line.firstIndex(of: "=") else { continue }
            result[section, default: []].append((String(line[..<eq]), String(line[line.index(after: eq)...])))
        }
        return result
    }
}

@Suite("systemd units")
struct SystemdUnitTests {
    @Test("systemd-analyze verify prints nothing for the rendered templates")
    func verify() async throws {
        let analyze = try SystemdFolder.tool("systemd-analyze")
        let dir = TempDir("mathreel-systemd")
        let units = try SystemdFolder.render(into: dir)
        let paths = SystemdFolder.units.map { units + "/" + $0 }
        let result = try await runCommand(analyze, ["verify", "--man=no"] + paths, environment: SystemdFolder.environment)
        // systemd 252 exits 0 even on unknown keys and bad values, so any output fails.
        #expect(result.status.succeeded, "systemd-analyze verify \(result.status): \(result.stderr)")
        #expect(result.stdout.isEmpty, "systemd-analyze verify printed on stdout:\n\(result.stdout)")
        #expect(result.stderr.isEmpty, "systemd-analyze verify printed on stderr:\n\(result.stderr)")
    }

    @Test("systemd-analyze security scores each service 2.0 or better", arguments: SystemdFolder.services)
    func security(service: String) async throws {
        let analyze = try SystemdFolder.tool("systemd-analyze")
        let dir = TempDir("mathreel-systemd")
        let units = try SystemdFolder.render(into: dir)
        let result = try await runCommand(analyze, ["security", "--offline=true", "--no-pager", units + "/" + service],
                                          environment: SystemdFolder.environment)
        #expect(result.status.succeeded, "systemd-analyze security \(service) \(result.status): \(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") },
                                "no 'Overall exposure level' line for \(service):\n\(result.stdout)\(result.stderr)")
        let match = try #require(line.firstMatch(of: /:\s*([0-9]+(?:\.[0-9]+)?)\s/), "cannot read the score of \(service) in: \(line)")
        let score = try #require(Double(match.1))
        #expect(score <= 2.0, "\(service) scores \(score) (> 2.0): \(line)")
    }

    @Test("every service keeps the invariants the daemons rely on", arguments: SystemdFolder.daemons)
    func invariants(daemon: String) throws {
        let unit = "mathreel-\(daemon).service"
        let text = try SystemdFolder.read(unit)
        let d = SystemdFolder.directives(text)
        func values(_ section: String, _ key: String) -> [String] { (d[section] ?? []).filter { $0.key == key }.map(\.value) }
        func one(_ section: String, _ key: String) -> String? { values(section, key).last }

        #expect(values("Unit", "PartOf") == ["mathreel.target"], "\(unit) PartOf=")
        #expect(values("Install", "WantedBy") == ["mathreel.target"], "\(unit) WantedBy=")
        #expect(one("Service", "ExecStart") == "@BINDIR@/mathreel-\(daemon)", "\(unit) ExecStart=")
        let expected: [String: String] = [
            "Type": "notify", "NotifyAccess": "main", "WatchdogSec": "30s", "Restart": "on-failure",
            "RestartSec": "2s", "TimeoutStopSec": "20s", "KillMode": "mixed",
            "EnvironmentFile": "-/etc/mathreel/mathreel.env",
            "User": "mathreel", "Group": "mathreel", "UMask": "0007",
            "ProtectSystem": "strict", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
        ]
        for (key, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(one("Service", key) == value, "\(unit): \(key)= should be '\(value)', is \(one("Service", key).map { "'\($0)'" } ?? "missing")")
        }
        #expect(values("Service", "Environment").contains("MATHREEL_SPOOL=/var/spool/mathreel MATHREEL_STATE=/var/lib/mathreel"),
                "\(unit) must set MATHREEL_SPOOL and MATHREEL_STATE")
        // One writable parent each: binding subdirectories separately makes rename() fail with EXDEV.
        #expect(values("Service", "ReadWritePaths") == ["/var/spool/mathreel /var/lib/mathreel"], "\(unit) ReadWritePaths=")
        #expect(one("Service", "DynamicUser") == nil, "\(unit): the daemons share the spool, so no DynamicUser=")
        let families = one("Service", "RestrictAddressFamilies")?.split(separator: " ").map(String.init) ?? []
        #expect(families.contains("AF_UNIX"), "\(unit) needs AF_UNIX for sd_notify")
        switch daemon {
        case "ingest", "codegen", "deliver":
            #expect(Set(families) == ["AF_UNIX", "AF_INET", "AF_INET6"], "\(unit) RestrictAddressFamilies=")
            #expect(one("Service", "PrivateNetwork") == nil, "\(unit) needs the network")
        default:
            #expect(families == ["AF_UNIX"], "\(unit) RestrictAddressFamilies=")
            #expect(one("Service", "PrivateNetwork") == "yes", "\(unit) PrivateNetwork=")
            #expect(one("Service", "IPAddressDeny") == "any", "\(unit) IPAddressDeny=")
        }
        if daemon == "render" {
            // bwrap: user namespaces, mounts and a fresh /proc.
            #expect(one("Service", "RestrictNamespaces") == "user mnt pid net ipc uts cgroup", "\(unit) RestrictNamespaces=")
            #expect(values("Service", "SystemCallFilter") == ["@system-service @mount"], "\(unit) SystemCallFilter=")
            #expect(one("Service", "PrivateUsers") == nil, "\(unit): no PrivateUsers= (bwrap)")
            // Their mounts inside /proc make the kernel refuse bwrap's --proc in a user namespace.
            #expect(one("Service", "ProtectKernelTunables") == nil, "\(unit): ProtectKernelTunables= breaks bwrap --proc")
            #expect(one("Service", "ProtectKernelLogs") == nil, "\(unit): ProtectKernelLogs= breaks bwrap --proc")
            #expect(one("Service", "MemoryMax") == "4G" && one("Service", "TasksMax") == "4096", "\(unit) MemoryMax=/TasksMax=")
        } else {
            #expect(one("Service", "RestrictNamespaces") == "yes", "\(unit) RestrictNamespaces=")
            #expect(one("Service", "PrivateUsers") == "yes", "\(unit) PrivateUsers=")
            if daemon == "codegen" {
                // prlimit (in @resources) caps the Python helpers it starts; they and their threads need tasks.
                #expect(values("Service", "SystemCallFilter") == ["@system-service", "~@privileged"], "\(unit) SystemCallFilter=")
                #expect(one("Service", "MemoryMax") == "512M" && one("Service", "TasksMax") == "128", "\(unit) MemoryMax=/TasksMax=")
            } else {
                #expect(values("Service", "SystemCallFilter") == ["@system-service", "~@privileged @resources"], "\(unit) SystemCallFilter=")
                #expect(one("Service", "MemoryMax") == "512M" && one("Service", "TasksMax") == "64", "\(unit) MemoryMax=/TasksMax=")
            }
        }
    }

    @Test("mathreel.target is wanted by multi-user.target and enables all five services")
    func target() throws {
        let d = SystemdFolder.directives(try SystemdFolder.read("mathreel.target"))
        #expect((d["Install"] ?? []).filter { $0.key == "WantedBy" }.map(\.value) == ["multi-user.target"])
        let also = (d["Install"] ?? []).filter { $0.key == "Also" }.flatMap { $0.value.split(separator: " ").map(String.init) }
        #expect(Set(also) == Set(SystemdFolder.services))
    }

    @Test("mathreel.sysusers parses and creates the system user mathreel")
    func sysusers() async throws {
        let sysusers = try SystemdFolder.tool("systemd-sysusers")
        let file = SystemdFolder.directory + "/mathreel.sysusers"
        let dryRun = try await runCommand(sysusers, ["--dry-run", file], environment: SystemdFolder.environment)
        #expect(dryRun.status.succeeded, "systemd-sysusers --dry-run \(dryRun.status):\n\(dryRun.stderr)")
        #expect(!dryRun.stderr.contains(file), "systemd-sysusers complained:\n\(dryRun.stderr)")

        guard geteuid() == 0 else { return }  // applying it to a scratch root needs root
        let root = TempDir("mathreel-sysroot")
        try FileManager.default.createDirectory(atPath: root.path + "/etc", withIntermediateDirectories: true)
        let applied = try await runCommand(sysusers, ["--root=" + root.path, file], environment: SystemdFolder.environment)
        #expect(applied.status.succeeded, "systemd-sysusers --root \(applied.status):\n\(applied.stderr)")
        let passwd = try String(contentsOfFile: root.path + "/etc/passwd", encoding: .utf8)
        let user = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("mathreel:") }, "no mathreel in \(passwd)")
        let fields = user.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        #expect(fields.count == 7 && fields[5] == "/var/lib/mathreel" && fields[6] == "/usr/sbin/nologin", "\(user)")
        #expect(Int(fields[2]).map { $0 > 0 && $0 < 1000 } == true, "not a system user: \(user)")
        let group = try String(contentsOfFile: root.path + "/etc/group", encoding: .utf8)
        #expect(group.split(separator: "\n").contains { $0.hasPrefix("mathreel:x:\(fields[3]):") }, "group mathreel: \(group)")
    }

    /// systemd 252's tmpfiles has no --dry-run, so the file is applied to a scratch
    /// root (as root: with the user from mathreel.sysusers; otherwise with the
    /// owners replaced by the caller's, which still checks the syntax and modes).
    @Test("mathreel.tmpfiles creates the spool, state and config directories")
    func tmpfiles() async throws {
        let tmpfiles = try SystemdFolder.tool("systemd-tmpfiles")
        let root = TempDir("mathreel-sysroot")
        let fm = FileManager.default
        try fm.createDirectory(atPath: root.path + "/etc", withIntermediateDirectories: true)
        var file = SystemdFolder.directory + "/mathreel.tmpfiles"
        var owner: (uid: uid_t, gid: gid_t)? = nil
        if geteuid() == 0 {
            let sysusers = try SystemdFolder.tool("systemd-sysusers")
            let made = try await runCommand(sysusers, ["--root=" + root.path, SystemdFolder.directory + "/mathreel.sysusers"],
                                            environment: SystemdFolder.environment)
            try #require(made.status.succeeded, "systemd-sysusers --root: \(made.stderr)")
        } else {
            // numeric, since --root resolves names in the scratch root's (empty) /etc/passwd
            owner = (geteuid(), getegid())
            let text = try SystemdFolder.read("mathreel.tmpfiles").split(separator: "\n").map { line -> String in
                var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard !line.hasPrefix("#"), fields.count >= 5 else { return String(line) }
                fields[3] = "\(owner!.uid)"; fields[4] = "\(owner!.gid)"
                return fields.joined(separator: " ")
            }.joined(separator: "\n") + "\n"
            file = root.path + "/mathreel.tmpfiles"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        let result = try await runCommand(tmpfiles, ["--root=" + root.path, "--create", file], environment: SystemdFolder.environment)
        #expect(result.status.succeeded, "systemd-tmpfiles --create \(result.status):\n\(result.stderr)")
        #expect(result.stderr.isEmpty, "systemd-tmpfiles printed:\n\(result.stderr)")

        var ids: [String: (uid: uid_t, gid: gid_t)] = ["root": (0, 0)]
        if owner == nil {
            let passwd = try String(contentsOfFile: root.path + "/etc/passwd", encoding: .utf8)
            let f = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("mathreel:") }).split(separator: ":")
            ids["mathreel"] = (uid_t(f[2])!, gid_t(f[3])!)
        }
        func id(_ name: String) -> (uid: uid_t, gid: gid_t)? { owner ?? ids[name] }
        for (path, mode, user, group) in [("/var/spool/mathreel", 0o2770, "mathreel", "mathreel"),
                                          ("/var/lib/mathreel", 0o750, "mathreel", "mathreel"),
                                          ("/etc/mathreel", 0o750, "root", "mathreel")] {
            var st = stat()
            try #require(stat(root.path + path, &st) == 0, "\(path) was not created")
            #expect((st.st_mode & S_IFMT) == S_IFDIR, "\(path) is not a directory")
            #expect(Int(st.st_mode & 0o7777) == mode, "\(path) mode \(String(st.st_mode & 0o7777, radix: 8)), want \(String(mode, radix: 8))")
            #expect(st.st_uid == id(user)?.uid, "\(path) owner \(st.st_uid), want \(user)")
            #expect(st.st_gid == id(group)?.gid, "\(path) group \(st.st_gid), want \(group)")
        }
    }

    @Test("mathreel.env.example documents every setting, with empty secrets")
    func envExample() throws {
        let text = try SystemdFolder.read("mathreel.env.example")
        let lines = text.split(separator: "\n").map(String.init)
        func documented(_ key: String) -> Bool { lines.contains { $0.hasPrefix(key + "=") || $0.hasPrefix("#" + key + "=") } }
        let keys = [
            // the providers and platforms
            "MATHREEL_PROVIDERS", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "GROQ_API_KEY", "HF_TOKEN",
            "OPENAI_API_KEY", "OPENAI_BASE_URL", "OLLAMA_URL",
            "TELEGRAM_BOT_TOKEN", "TELEGRAM_SECRET_TOKEN", "TELEGRAM_API_BASE",
            "WHATSAPP_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_API_BASE",
            "MATHREEL_PYTHON", "MATHREEL_MAX_CONCURRENT_RENDERS", "MATHREEL_DEFAULT_QUALITY", "MATHREEL_DIRECT_CODE",
            "MATHREEL_RATE_LIMIT_PER_HOUR", "MATHREEL_RATE_LIMIT_BURST",
            "MATHREEL_PLANNER_MODEL", "MATHREEL_SCENE_MODEL", "MATHREEL_HELPER_MODEL", "MATHREEL_SCENE_KEEP_S", "MATHREEL_LESSON_TIMEOUT_S",
            // the lifetimes
            "MATHREEL_SESSION_TTL_S", "MATHREEL_QUEUED_TTL_S", "MATHREEL_READY_TTL_S", "MATHREEL_ACCESS_GRACE_S",
            "MATHREEL_DONE_TTL_S", "MATHREEL_FAILED_TTL_S", "MATHREEL_QUARANTINE_TTL_S", "MATHREEL_RENDER_TIMEOUT_S",
            // the rest
            "MATHREEL_MIN_FREE_BYTES", "MATHREEL_LOG_LEVEL", "MATHREEL_INGEST_ADDR", "MATHREEL_DELIVERY_ADDR", "MATHREEL_PUBLIC_URL",
        ]
        for key in keys { #expect(documented(key), "mathreel.env.example does not mention \(key)") }
        #expect(lines.contains("#MATHREEL_MIN_FREE_BYTES=1073741824"))
        #expect(lines.contains("#MATHREEL_LOG_LEVEL=info"))
        #expect(text.contains("0640"), "the example should say the file is mode 0640 root:mathreel")
        // No value filled in for anything secret.
        for line in lines where !line.hasPrefix("#") && line.contains("=") {
            let key = line.prefix { $0 != "=" }
            if ["TOKEN", "KEY", "SECRET"].contains(where: { key.contains($0) }) {
                #expect(line.hasSuffix("="), "secret with a value in the example: \(line)")
            }
        }
    }

    /// Which secrets each daemon may read; every other secret the env file can hold is
    /// removed from its environment (UnsetEnvironment=). A new secret in the example fails
    /// here until every unit that needs none unsets it.
    static let secretsNeeded: [String: Set<String>] = [
        "ingest": ["TELEGRAM_SECRET_TOKEN", "TELEGRAM_BOT_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_TOKEN", "MATHREEL_API_SECRET"],
        "codegen": ["CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "GROQ_API_KEY", "HF_TOKEN", "OPENAI_API_KEY"],
        "deliver": ["TELEGRAM_BOT_TOKEN", "WHATSAPP_TOKEN"],
        "render": [],
        "janitor": [],
    ]

    @Test("each service gets only the secrets it needs", arguments: SystemdFolder.daemons)
    func onlyItsOwnSecrets(daemon: String) throws {
        let example = try SystemdFolder.read("mathreel.env.example").split(separator: "\n").map(String.init)
        let keys = example.compactMap { line -> String? in
            let l = line.hasPrefix("#") ? String(line.dropFirst()) : line
            guard let eq = l.firstIndex(of: "="), l[..<eq].allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }), !l[..<eq].isEmpty else { return nil }
            return String(l[..<eq])
        }
        let secrets = Set(keys.filter { k in ["TOKEN", "SECRET", "_KEY", "ACCOUNT_ID"].contains { k.contains($0) } })
        #expect(secrets.contains("MATHREEL_API_SECRET") && secrets.contains("GROQ_API_KEY"), "\(secrets)")
        let unit = SystemdFolder.directives(try SystemdFolder.read("mathreel-\(daemon).service"))
        let unset = Set((unit["Service"] ?? []).filter { $0.key == "UnsetEnvironment" }.flatMap { $0.value.split(separator: " ").map(String.init) })
        let needed = SystemdUnitTests.secretsNeeded[daemon] ?? []
        #expect(secrets.subtracting(needed).subtracting(unset).isEmpty, "mathreel-\(daemon) can read \(secrets.subtracting(needed).subtracting(unset).sorted())")
        #expect(unset.intersection(needed).isEmpty, "mathreel-\(daemon) loses a secret it needs: \(unset.intersection(needed).sorted())")
    }
}
