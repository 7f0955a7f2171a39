// `mathreel up`: runs the five daemons in the foreground. It finds the daemon
// binaries beside its own executable, supervises each (Supervisor.swift), shows
// their logs prefixed with their names, and on SIGINT/SIGTERM stops them all.
import ArgumentParser
import Foundation
import Logging
import MathreelCore
import MathreelDaemon
import MathreelSpool
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run all five daemons in the foreground under a small supervisor that restarts a crashed one.",
        discussion: "Stop with Ctrl-C (or SIGTERM or SIGHUP): every daemon gets SIGTERM and 15 s to finish; what remains is killed.")

    @OptionGroup var daemon: DaemonOptions
    @Option(help: ArgumentHelp("Seconds the daemons get to stop before they are killed.", valueName: "seconds"))
    var stopTimeout: Double = 15

    static let daemons = ["ingest", "codegen", "render", "deliver", "janitor"]

    func run() async throws {
        Daemon.prepare(name: "up")
        let config = try daemon.loadConfig()
        // Create the spool here, so a wrong path is one clear message, not five crash loops.
        _ = try daemon.openSpool(config, create: true)

        let dir = Self.executableDirectory()
        let found = Self.daemons.filter { access("\(dir)/mathreel-\($0)", X_OK) == 0 }
        let missing = Self.daemons.filter { !found.contains($0) }
        if found.isEmpty {
            throw failure(1, "no daemon binaries beside \(dir)/mathreel (looked for \(Self.daemons.map { "mathreel-\($0)" }.joined(separator: ", "))). Build them with `swift build` (or `make`) and run the mathreel from the same directory.")
        }

        // Signals first: from here on SIGINT/SIGTERM start a graceful stop instead of killing us.
        // SIGHUP too: a closed terminal must not leave the daemons (in their own sessions) orphaned.
        for sig in [SIGTERM, SIGINT, SIGHUP] { signal(sig, SIG_IGN) }
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup)

        let width = (Self.daemons + ["up"]).map(\.count).max()!
        func prefix(_ name: String) -> String { name.padding(toLength: width, withPad: " ", startingAt: 0) + " | " }
        let own = try LineForwarder(prefix: prefix("up"))
        let outputs = try found.map { try LineForwarder(prefix: prefix($0)) }
        let logLevel = Logs.level(config.environment)
        let logger = Logger(label: "up") { label in JSONLogHandler(label: label, level: logLevel, fd: own.writeFD) }

        if !missing.isEmpty {
            logger.warning("not built yet, so not started: \(missing.map { "mathreel-\($0)" }.joined(separator: ", "))", metadata: ["directory": "\(dir)"])
        }
        let arguments = ["--spool", config.spool, "--state", config.state]
        // systemd's notify and watchdog variables are meant for this process, not for the daemons under it.
        var environment = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { environment[key] = nil }
        let supervisors = zip(found, outputs).map { name, out in
            Supervisor(name: name, path: "\(dir)/mathreel-\(name)", arguments: arguments,
                       environment: environment, output: out, logger: logger)
        }
        logger.info("supervising \(found.joined(separator: ", ")); stop with Ctrl-C", metadata: ["spool": "\(config.spool)", "state": "\(config.state)"])

        let shutdown = Shutdown()
        let grace = stopTimeout
        let signalTask = Task {
            for await sig in signals {
                if shutdown.signalled() == 1 {
                    logger.notice("stopping every daemon", metadata: ["signal": "\(sig)", "grace_s": "\(Int(grace))"])
                    for s in supervisors { s.stop() }
                    Task {
                        try? await Task.sleep(for: .seconds(grace))
                        if !shutdown.isFinished { for s in supervisors { s.kill() } }
                    }
                } else {
                    logger.warning("second signal: killing every daemon now", metadata: ["signal": "\(sig)"])
                    for s in supervisors { s.kill() }
                }
            }
        }

        await withTaskGroup(of: Void.self) { group in
            for s in supervisors { group.addTask { await s.run() } }
        }
        shutdown.finish()
        signalTask.cancel()
        for s in supervisors { s.sweep() }
        for out in outputs { out.finish(timeout: 2) }
        logger.info("every daemon has stopped")
        own.finish(timeout: 2)
    }

    /// The directory of the running executable (/proc/self/exe), where `swift build` and `make install` put the daemons too.
    static func executableDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        let path = n > 0 ? String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        return (path as NSString).deletingLastPathComponent
    }
}

/// How many stop signals have come, and whether every daemon is down.
final class Shutdown: @unchecked Sendable {
    private let lock = NSLock()
    private var signals = 0
    private var finished = false

    func signalled() -> Int { lock.lock(); defer { lock.unlock() }; signals += 1; return signals }
    func finish() { lock.lock(); finished = true; lock.unlock() }
    var isFinished: Bool { lock.lock(); defer { lock.unlock() }; return finished }
}
