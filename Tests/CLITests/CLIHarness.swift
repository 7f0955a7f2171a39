// What the CLI tests share: running the real `mathreel` binary against a
// throwaway spool, in the foreground or in the background while the test moves
// jobs by hand, and making job files in any place of that spool.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway spool and the `mathreel` command pointed at it.
struct CLIFixture {
    let dir = TempDir("mathreel-cli")
    let spool: Spool

    init() throws {
        spool = try Spool(root: dir.spool)
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in ["MATHREEL_SPOOL", "MATHREEL_STATE", "MATHREEL_DEFAULT_QUALITY", "MATHREEL_MIN_FREE_BYTES", "MATHREEL_DIRECT_CODE"] { env[key] = nil }
        return env
    }

    /// `mathreel <command> --spool … --state … <args>` to completion.
    func run(_ command: String, _ args: [String] = [], timeout: Double = 60) async throws -> CommandResult {
        try await runCommand(Binaries.path("mathreel"), [command, "--spool", dir.spool, "--state", dir.state] + args,
                             environment: environment, timeout: timeout)
    }

    /// The same, left running in the background.
    func start(_ command: String, _ args: [String] = []) throws -> Background {
        try Background(Binaries.path("mathreel"), [command, "--spool", dir.spool, "--state", dir.state] + args, environment: environment)
    }

    /// A job as a stage would have written it, published straight into `place`.
    @discardableResult
    func place(_ place: Place, status: JobStatus, edit: (inout Job) -> Void = { _ in }) throws -> Job {
        var job = Job(kind: .problem, problem: "Solve x^2 - 5x + 6 = 0", origin: JobOrigin(channel: .file))
        job.record(.queued, by: "test", note: "made by the test")
        if status != .queued { job.record(status, by: "test") }
        edit(&job)
        job.next = place.path
        try spool.publish(job.encoded(), as: job.id + ".json", to: place)
        return job
    }

    func names(_ place: Place) -> [String] {
        ((try? spool.list(place)) ?? []).compactMap(\.string).sorted()
    }
}

/// A command running in its own session, its output in files the test can read at any time.
final class Background: @unchecked Sendable {
    let child: ChildProcess
    private let dir = TempDir("mathreel-bg")

    init(_ path: String, _ args: [String], environment: [String: String]) throws {
        let out = open(dir.path + "/out", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        let err = open(dir.path + "/err", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        defer { close(out); close(err) }
        child = try ChildProcess(path: path, arguments: args, environment: environment, stdout: out, stderr: err, newSession: true)
    }

    deinit { if child.termination == nil { child.signalGroup(SIGKILL) } }

    var stdout: String { (try? String(contentsOfFile: dir.path + "/out", encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: dir.path + "/err", encoding: .utf8)) ?? "" }

    /// The exit, or nil (and the process killed) if it runs longer than `timeout`.
    func finish(timeout: Double) async -> Termination? {
        if let t = await child.wait(timeout: timeout) { return t }
        child.signalGroup(SIGKILL)
        _ = await child.wait()
        return nil
    }
}

/// The first line of `text`, if it is a job id alone.
func idLine(_ text: String) -> String? {
    guard let first = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init),
          JobID.isValid(first) else { return nil }
    return first
}

/// Live processes whose parent is `parent`, with their argv[0].
func children(of parent: pid_t) -> [(pid: pid_t, command: String)] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    var out: [(pid_t, String)] = []
    for e in entries {
        guard let pid = pid_t(e),
              let stat = try? String(contentsOfFile: "/proc/\(e)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 2, fields[0] != "Z", pid_t(fields[1]) == parent else { continue }
        let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(e)/cmdline"))) ?? Data()
        let argv0 = String(decoding: cmdline.prefix { $0 != 0 }, as: UTF8.self)
        out.append((pid, argv0))
    }
    return out
}

/// Whether a process with this pid exists and is not a zombie.
func isRunning(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
}
