// The `mathreel` command: the root of the subcommands in the README and the
// conventions they share (opening the configuration and the spool, exiting
// with a message that says what happened and what to do).
import ArgumentParser
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
#if canImport(Glibc)
import Glibc
#endif

public struct Mathreel: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mathreel",
        abstract: "Turn math problems into short animated videos: submit jobs, follow them, and run the daemons.",
        subcommands: [Up.self, Submit.self, Status.self, Follow.self, Edit.self, Retry.self, SpoolCommand.self, Doctor.self])

    public init() {}
}

/// Exit statuses the commands use, beside 0 (done) and 1 (the job or check failed).
enum Exit {
    /// Bad input: the job was not accepted.
    static let invalid: Int32 = 2
    /// EX_TEMPFAIL: refused for now (disk guard), try again later.
    static let tempFail: Int32 = 75
    /// EX_CONFIG: a MATHREEL_* setting is wrong.
    static let config: Int32 = 78
    /// What `timeout(1)` uses: gave up waiting.
    static let timedOut: Int32 = 124
}

/// Says `message` on stderr (prefixed "mathreel: ") and returns the exit to throw.
func failure(_ code: Int32, _ message: String) -> ExitCode {
    Out.err("mathreel: " + message)
    return ExitCode(code)
}

extension DaemonOptions {
    /// The configuration, or an exit that names the bad setting.
    func loadConfig() throws -> Config {
        do { return try config() } catch let e as ConfigError {
            throw failure(Exit.config, "\(e.description). Fix it in the environment (or /etc/mathreel/mathreel.env) and run the command again.")
        }
    }

    /// Opens the spool; `create` makes missing directories (as the daemons do).
    func openSpool(_ config: Config, create: Bool) throws -> Spool {
        do { return try Spool(root: config.spool, create: create) } catch {
            if !create && !FileManager.default.fileExists(atPath: config.spool) {
                throw failure(1, "there is no spool at \(config.spool). Give the right one with --spool or MATHREEL_SPOOL, or start `mathreel up` once to create it.")
            }
            throw failure(1, "cannot open the spool at \(config.spool) (\(error)). Run `mathreel doctor` to see what is wrong with it.")
        }
    }
}

/// Unbuffered output: a line is on its way when the call returns, so a script
/// reading `submit`'s first line does not wait for the command to end.
enum Out {
    private static let lock = NSLock()

    static func line(_ s: String) { write(1, s + "\n") }
    static func err(_ s: String) { write(2, s + "\n") }

    static func write(_ fd: Int32, _ s: String) {
        let bytes = Array(s.utf8)
        lock.lock()
        defer { lock.unlock() }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n <= 0 { if errno == EINTR { continue } else { return } }
            off += n
        }
    }
}
