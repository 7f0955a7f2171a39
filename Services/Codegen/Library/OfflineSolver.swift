// OfflineSolver: the built-in solver (solver.py, SymPy) as a warm worker. One
// long-lived Python with SymPy imported answers one JSON line per problem in
// milliseconds: the family, the answer, and a finished scene whose text all came
// from SymPy. The person's text reaches it as JSON data, never as source. It runs
// with a bare environment and rlimits; a hung or dead worker is replaced.
import MathreelCore
import MathreelDaemon
import MathreelSpool
#if canImport(Glibc)
import Glibc
#endif

public enum SolverReply: Sendable, Equatable {
    case solved(family: String, answer: String, code: String, scene: String)
    /// Not a problem it knows; the message shows how to phrase one.
    case unsupported(String)
    /// The worker could not answer (it died, hung or could not start).
    case unavailable(String)

    public var answer: String? { if case .solved(_, let a, _, _) = self { a } else { nil } }
}

public actor OfflineSolver {
    let python: String
    let source: [UInt8]
    /// Per problem; a worker that takes longer is killed and replaced.
    let timeout: Double
    private var worker: SolverWorker?

    public init(python: String, source: [UInt8] = OfflineSolver.embeddedSource, timeout: Double = 10) {
        self.python = python; self.source = source; self.timeout = timeout
    }

    public static var embeddedSource: [UInt8] { PackageResources.solver_py }

    /// Starts the worker ahead of the first problem (SymPy's import takes about half a second).
    public func warmUp() async { _ = try? await ready() }

    /// One problem at a time: the actor lets another call in at every await, and the
    /// worker's replies must pair with their requests.
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    private func acquire() async {
        if !busy { busy = true; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }

    public func solve(_ problem: String, context: String? = nil) async -> SolverReply {
        await acquire()
        defer { release() }
        return await exchange(problem, context: context)
    }

    private func exchange(_ problem: String, context: String?) async -> SolverReply {
        // Exactly one line: the writer may end its output with a newline of its own.
        var request = JSONValue.object(["problem": .string(problem), "context": .string(context ?? "")]).serialized(pretty: false)
        while request.last == 10 { request.removeLast() }
        request.append(10)
        do {
            var w = try await ready()
            var answer: [UInt8]?
            do { answer = try await w.exchange(request, timeout: timeout) } catch is WorkerGone {
                // It died before this problem (killed, or not yet reaped when `ready` looked): one fresh try.
                stop()
                w = try await ready()
                answer = try await w.exchange(request, timeout: timeout)
            }
            guard let line = answer else {
                stop()
                return .unavailable("the offline solver did not answer within \(Int(timeout)) s")
            }
            guard case .object(let o)? = try? JSONValue.parse(line) else { stop(); return .unavailable("the offline solver answered nonsense") }
            if o["ok"] == .bool(true), let family = o["family"]?.stringValue, let answer = o["answer"]?.stringValue,
               let code = o["code"]?.stringValue {
                return .solved(family: family, answer: answer, code: code, scene: o["scene"]?.stringValue ?? "Solution")
            }
            return .unsupported(o["message"]?.stringValue ?? "The offline solver does not know this kind of problem.")
        } catch {
            stop()
            return .unavailable("the offline solver could not run: \(error)")
        }
    }

    public func stop() {
        worker?.stop()
        worker = nil
    }

    /// The running worker's process id (nil when none runs).
    public func workerPID() -> Int32? { worker.flatMap { $0.isAlive ? $0.child.pid : nil } }

    private func ready() async throws -> SolverWorker {
        if let w = worker, w.isAlive { return w }
        worker?.stop()
        let w = try SolverWorker(python: python, source: source)
        guard let line = (try? await w.readLine(timeout: 60)) ?? nil, case .object(let o)? = try? JSONValue.parse(line), o["ready"] == .bool(true) else {
            w.stop()
            throw ChildError(description: "the offline solver did not start (is `make setup` done? \(python))")
        }
        worker = w
        return w
    }
}

/// The solver's process: requests on its stdin, one reply line each on its stdout.
final class SolverWorker: @unchecked Sendable {
    let child: ChildProcess
    let input: Int32
    let output: Int32
    let errors: ScratchFile
    private var pending: [UInt8] = []

    init(python: String, source: [UInt8]) throws {
        var toChild: [Int32] = [-1, -1], fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else { throw ChildError(description: "cannot create pipes") }
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(toChild[0]); close(fromChild[1]) }
        let script = try ScratchFile(contents: source)
        errors = try ScratchFile()
        // Long-lived, so no CPU cap on the process: solver.py stops each problem itself.
        child = try PythonScript.start(python: python, script: script, memory: 2 << 30, cpuSeconds: nil,
                                       stdin: toChild[0], stdout: fromChild[1], stderr: errors.fd)
        input = toChild[1]
        output = fromChild[0]
        _ = fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK)
    }

    deinit { stop(); close(input); close(output) }

    var isAlive: Bool { child.termination == nil }

    func stop() { if child.termination == nil { child.signalGroup(SIGKILL) } }

    /// Sends one request line and waits for the reply line.
    func exchange(_ request: [UInt8], timeout: Double) async throws -> [UInt8]? {
        let fd = input
        try await BlockingIO.run {
            var off = 0
            while off < request.count {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                guard poll(&p, 1, 5000) > 0 else { throw ChildError(description: "the offline solver does not read") }
                let n = request.withUnsafeBytes { write(fd, $0.baseAddress! + off, request.count - off) }
                if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; throw WorkerGone() }
                off += n
            }
        }
        return try await readLine(timeout: timeout)
    }

    /// The next line of output, or nil when none comes in time; `WorkerGone` at end of output.
    func readLine(timeout: Double) async throws -> [UInt8]? {
        try await BlockingIO.run { [self] in
            let deadline = Date().addingTimeInterval(timeout)
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                if let nl = pending.firstIndex(of: 10) {
                    let line = Array(pending[..<nl])
                    pending.removeSubrange(...nl)
                    return line
                }
                let left = deadline.timeIntervalSinceNow
                guard left > 0 else { return nil }
                var p = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
                let r = poll(&p, 1, Int32(min(left * 1000, 1000)))
                if r < 0 && errno != EINTR { return nil }
                if r <= 0 { continue }
                let n = buf.withUnsafeMutableBytes { read(output, $0.baseAddress!, $0.count) }
                if n == 0 { throw WorkerGone() }
                if n < 0 { if errno == EINTR { continue }; return nil }
                pending += buf.prefix(n)
                if pending.count > 16 << 20 { return nil }
            }
        }
    }
}

/// The worker's pipes are closed: it died.
struct WorkerGone: Error, CustomStringConvertible {
    var description: String { "the offline solver's process ended" }
}
