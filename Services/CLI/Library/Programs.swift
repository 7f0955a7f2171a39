// Running other programs from the command: find one on PATH, run it through
// ChildProcess (posix_spawn, clean signal mask, own session) with stdout and
// stderr in unlinked temporary files, and kill its group when it overstays.
import Foundation
import MathreelDaemon
#if canImport(Glibc)
import Glibc
#endif

struct ProgramResult {
    /// nil: it did not finish in time and was killed.
    let termination: Termination?
    let stdout: String
    let stderr: String

    var succeeded: Bool { termination?.succeeded ?? false }
    /// The first non-empty line of stdout, else of stderr.
    var firstLine: String {
        for text in [stdout, stderr] {
            if let l = text.split(separator: "\n").first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                return l.trimmingCharacters(in: .whitespaces)
            }
        }
        return ""
    }
}

enum Programs {
    /// The executable `name` would run as: itself if it holds a slash, else the first on PATH.
    static func find(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs `path` to completion or `timeout`; output is kept up to 64 KB per stream.
    static func run(_ path: String, _ args: [String], timeout: Double,
                    environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> ProgramResult {
        let out = try ScratchFile()
        let err = try ScratchFile()
        let child = try ChildProcess(path: path, arguments: args, environment: environment, stdout: out.fd, stderr: err.fd, newSession: true)
        let (end, timedOut) = await child.wait(orKillAfter: timeout)
        return ProgramResult(termination: timedOut ? nil : end,
                             stdout: String(decoding: out.read(limit: 65_536), as: UTF8.self),
                             stderr: String(decoding: err.read(limit: 65_536), as: UTF8.self))
    }
}
