// ChildProcess: spawning programs from async code without Foundation.Process:
// posix_spawn with a clean signal mask (CMathreel), optionally its own session,
// and a dedicated thread per child for the blocking waitpid. When no thread can
// be had, the child is killed and the start throws: one job fails, not the daemon.
import CMathreel
import MathreelCore
import MathreelSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    public var description: String {
        switch self {
        case .exited(let c): "exited with status \(c)"
        case .signaled(let s): "killed by signal \(s)"
        }
    }
    public var succeeded: Bool { self == .exited(0) }
}

public final class ChildProcess: Sendable {
    public let pid: pid_t
    private struct State {
        var result: Termination?
        var waiters: [CheckedContinuation<Termination, Never>] = []
    }
    private let state = Mutex(State())

    /// Starts `path` with `arguments`. stdin is /dev/null unless given; `passing` are
    /// descriptors the child gets as 3, 4, ... (nothing else crosses).
    public init(path: String, arguments: [String], environment: [String: String],
                stdin: Int32 = -1, stdout: Int32 = -1, stderr: Int32 = -1, passing: [Int32] = [], newSession: Bool = false) throws {
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }
        var nullFD: Int32 = -1
        if stdin < 0 { nullFD = open("/dev/null", O_RDONLY | O_CLOEXEC) }
        defer { if nullFD >= 0 { close(nullFD) } }
        // Copies far above 3 + count, so no dup2 onto 3, 4, ... overwrites one not yet moved.
        let extra = passing.map { fcntl($0, F_DUPFD_CLOEXEC, 100) }
        defer { for fd in extra where fd >= 0 { close(fd) } }
        if extra.contains(where: { $0 < 0 }) { throw ChildError(description: "could not pass a descriptor to \(path): \(String(cString: strerror(errno)))") }
        let pid = mr_spawn(path, argv, envp, stdin >= 0 ? stdin : nullFD, stdout, stderr, extra, Int32(extra.count), newSession ? 1 : 0)
        if pid < 0 { throw ChildError(description: "could not start \(path): \(String(cString: strerror(-pid)))") }
        self.pid = pid
        do {
            try OSThread.start { [self] in
                let t = ChildProcess.reap(pid)
                let ws = state.withLock { s in
                    s.result = t
                    defer { s.waiters = [] }
                    return s.waiters
                }
                for w in ws { w.resume(returning: t) }
            }
        } catch {
            // Nobody could wait for it: it must not run unwatched (a sandbox past its clock).
            kill(newSession ? -pid : pid, SIGKILL)
            _ = ChildProcess.reap(pid)
            throw ChildError(description: "could not watch \(path): \(error)")
        }
    }

    /// Blocks until `pid` ends; how it ended.
    private static func reap(_ pid: pid_t) -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
    }

    public func signal(_ sig: Int32) { kill(pid, sig) }
    /// Signals the child's whole process group (it must lead one: newSession).
    public func signalGroup(_ sig: Int32) { kill(-pid, sig) }

    public var termination: Termination? { state.withLock { $0.result } }

    public func wait() async -> Termination {
        await withCheckedContinuation { c in
            let done: Termination? = state.withLock { s in
                if let r = s.result { return r }
                s.waiters.append(c)
                return nil
            }
            if let done { c.resume(returning: done) }
        }
    }

    /// Waits at most `seconds`, then kills the child's whole group; says whether it had to.
    public func wait(orKillAfter seconds: Double) async -> (Termination, Bool) {
        if let t = await wait(timeout: seconds) { return (t, false) }
        signalGroup(SIGKILL)
        return (await wait(), true)
    }

    /// Waits at most `seconds`; nil if the child still runs.
    public func wait(timeout seconds: Double) async -> Termination? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let t = termination { return t }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return termination
    }
}

public struct ChildError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}
