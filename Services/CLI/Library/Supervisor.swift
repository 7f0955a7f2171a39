// Supervisor: keeps one daemon running for `mathreel up`. It starts the binary
// in its own session with output through a LineForwarder, restarts it after an
// unexpected exit with backoff (1 s doubling to 30 s, reset after 60 s of good
// running), and on stop sends SIGTERM, then SIGKILL to its group if asked.
import Foundation
import Logging
import MathreelDaemon
#if canImport(Glibc)
import Glibc
#endif

final class Supervisor: @unchecked Sendable {
    let name: String
    let path: String
    let arguments: [String]
    let environment: [String: String]
    let output: LineForwarder
    let logger: Logger
    var firstDelay: Double = 1
    var maxDelay: Double = 30
    /// A run at least this long counts as healthy: the next crash starts the backoff over.
    var healthyRun: Double = 60

    private let lock = NSLock()
    private var child: ChildProcess?
    private var stopping = false
    private var lastPID: pid_t?

    init(name: String, path: String, arguments: [String], environment: [String: String], output: LineForwarder, logger: Logger) {
        self.name = name; self.path = path; self.arguments = arguments; self.environment = environment
        self.output = output; self.logger = logger
    }

    var isStopping: Bool { lock.lock(); defer { lock.unlock() }; return stopping }
    var pid: pid_t? { lock.lock(); defer { lock.unlock() }; return child?.pid }

    /// Runs the daemon until `stop()`; returns once it has exited for good.
    func run() async {
        var delay = firstDelay
        while true {
            let started = Date()
            let child: ChildProcess?
            do { child = try start() } catch {
                logger.error("could not start the daemon; trying again", metadata: [
                    "child": "\(name)", "error": "\(error)", "retry_in_s": "\(Int(delay))"])
                if await pause(delay) { return }
                delay = min(delay * 2, maxDelay)
                continue
            }
            guard let child else { return }
            logger.info("started", metadata: ["child": "\(name)", "pid": "\(child.pid)"])
            let termination = await child.wait()
            if exited() {
                logger.info("stopped", metadata: ["child": "\(name)", "pid": "\(child.pid)", "how": "\(termination)"])
                return
            }
            let ran = Date().timeIntervalSince(started)
            if ran >= healthyRun { delay = firstDelay }
            logger.error("exited unexpectedly; restarting it", metadata: [
                "child": "\(name)", "pid": "\(child.pid)", "how": "\(termination)",
                "ran_s": "\(Int(ran))", "restart_in_s": "\(Int(delay))"])
            if await pause(delay) { return }
            delay = min(delay * 2, maxDelay)
        }
    }

    /// Forgets the exited child; true when it was asked to stop.
    private func exited() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        child = nil
        return stopping
    }

    /// Starts the child unless stopping (nil then); the lock makes stop() and start() exclusive.
    private func start() throws -> ChildProcess? {
        lock.lock()
        defer { lock.unlock() }
        if stopping { return nil }
        let c = try ChildProcess(path: path, arguments: arguments, environment: environment,
                                 stdout: output.writeFD, stderr: output.writeFD, newSession: true)
        child = c
        lastPID = c.pid
        return c
    }

    /// Sleeps `seconds` unless stop() comes first; true when stopping.
    private func pause(_ seconds: Double) async -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if isStopping { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return isStopping
    }

    /// Asks the daemon to shut down gracefully (SIGTERM) and not to come back.
    func stop() {
        if let c = markStopping() {
            logger.info("stopping", metadata: ["child": "\(name)", "pid": "\(c.pid)"])
            c.signal(SIGTERM)
        }
    }

    /// Marks the daemon as not to be restarted; returns it if it is running.
    private func markStopping() -> ChildProcess? {
        lock.lock()
        defer { lock.unlock() }
        stopping = true
        return child
    }

    /// After the daemon has exited: kills whatever it started and left behind in its group.
    func sweep() {
        lock.lock()
        let pid = child == nil ? lastPID : nil
        lock.unlock()
        if let pid { _ = Glibc.kill(-pid, SIGKILL) }
    }

    /// Kills the daemon and everything it started (its session's process group).
    func kill() {
        if let c = markStopping() {
            logger.warning("did not stop in time; killing it", metadata: ["child": "\(name)", "pid": "\(c.pid)"])
            c.signalGroup(SIGKILL)
            c.signal(SIGKILL)
        }
    }
}
