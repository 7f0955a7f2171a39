// PythonWorker: a long-lived Python script that answers one JSON line per
// request, for work whose interpreter start costs more than the work itself
// (the offline solver, the static check). One request at a time, so replies pair
// with requests; a worker that hangs is killed and replaced, one that died
// unnoticed gets one fresh try. It starts under prlimit with a bare environment
// (PythonScript.start) and ends by itself when its stdin closes.
import MathreelCore
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

/// Why a worker gave no answer; `description` is written for a log or a person.
public struct WorkerUnavailable: Error, CustomStringConvertible, Sendable {
    public let description: String
}

public actor PythonWorker {
    let python: String
    let source: [UInt8]
    let arguments: [String]
    let memory: Int64
    /// "the offline solver": how messages name it.
    let name: String
    private var worker: WorkerProcess?
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// The script must print `{"ready": true}` once it is ready, then one reply line per request line.
    public init(python: String, source: [UInt8], arguments: [String] = [], memory: Int64, name: String) {
        self.python = python; self.source = source; self.arguments = arguments; self.memory = memory; self.name = name
    }

    /// Starts the worker ahead of the first request.
    public func warmUp() async { _ = try? await ready() }

    /// One request, one reply object; throws `WorkerUnavailable` when there is none within `timeout`.
    public func exchange(_ request: JSONValue, timeout: Double) async throws -> JSONObject {
        await acquire()
        defer { release() }
        // Exactly one line: the writer may end its output with a newline of its own.
        var line = request.serialized(pretty: false)
        while line.last == 10 { line.removeLast() }
        line.append(10)
        do {
            var w = try await ready()
            var answer: [UInt8]?
            do { answer = try await w.exchange(line, timeout: timeout) } catch is WorkerGone {
                // It died before this request (killed, or not yet reaped when `ready` looked): one fresh try.
                stop()
                w = try await ready()
                answer = try await w.exchange(line, timeout: timeout)
            }
            guard let reply = answer else {
                stop()
                throw WorkerUnavailable(description: "\(name) did not answer within \(Int(timeout)) s")
            }
            guard case .object(let o)? = try? JSONValue.parse(reply) else {
                stop()
                throw WorkerUnavailable(description: "\(name) answered nonsense")
            }
            return o
        } catch let error as WorkerUnavailable {
            throw error
        } catch {
            let died = worker?.diagnosis()
            stop()
            throw WorkerUnavailable(description: "\(name) could not run: \(died ?? "\(error)")")
        }
    }

    public func stop() {
        worker?.stop()
        worker = nil
    }

    /// The running worker's process id (nil when none runs).
    public func pid() -> Int32? { worker.flatMap { $0.isAlive ? $0.child.pid : nil } }

    private func acquire() async {
        if !busy { busy = true; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }

    private func ready() async throws -> WorkerProcess {
        if let w = worker, w.isAlive { return w }
        worker?.stop()
        let w: WorkerProcess
        do { w = try WorkerProcess(python: python, source: source, arguments: arguments, memory: memory) } catch {
            throw WorkerUnavailable(description: "\(name) could not start: \(error)")
        }
        guard let line = (try? await w.readLine(timeout: 60)) ?? nil, case .object(let o)? = try? JSONValue.parse(line), o["ready"] == .bool(true) else {
            let why = w.diagnosis()
            w.stop()
            throw WorkerUnavailable(description: "\(name) did not start (is `make setup` done? \(python))" + (why.isEmpty ? "" : ": " + why))
        }
        worker = w
        return w
    }
}

/// The worker's process: requests on its stdin, one reply line each on its stdout.
final class WorkerProcess: @unchecked Sendable {
    let child: ChildProcess
    let input: Int32
    let output: Int32
    let errors: ScratchFile
    private var pending: [UInt8] = []

    init(python: String, source: [UInt8], arguments: [String], memory: Int64) throws {
        var toChild: [Int32] = [-1, -1], fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else { throw ChildError(description: "cannot create pipes") }
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(toChild[0]); close(fromChild[1]) }
        // A write to a worker that just died must come back as EPIPE, not end this process.
        signal(SIGPIPE, SIG_IGN)
        let script = try ScratchFile(contents: source)
        errors = try ScratchFile()
        // Long-lived, so no CPU cap on the process: each request has its own timeout.
        child = try PythonScript.start(python: python, script: script, arguments: arguments, memory: memory, cpuSeconds: nil,
                                       stdin: toChild[0], stdout: fromChild[1], stderr: errors.fd)
        input = toChild[1]
        output = fromChild[0]
        _ = fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK)
    }

    deinit { stop(); close(input); close(output) }

    var isAlive: Bool { child.termination == nil }

    func stop() { if child.termination == nil { child.signalGroup(SIGKILL) } }

    /// The end of what the worker wrote to stderr, for a message.
    func diagnosis() -> String {
        var text = String(decoding: errors.tail(limit: 2000), as: UTF8.self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }

    /// Sends one request line and waits for the reply line.
    func exchange(_ request: [UInt8], timeout: Double) async throws -> [UInt8]? {
        let fd = input
        try await BlockingIO.run {
            var off = 0
            while off < request.count {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                guard poll(&p, 1, 5000) > 0 else { throw ChildError(description: "the worker does not read") }
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
    var description: String { "the worker's process ended" }
}
