// OfflineSolver: the built-in solver (solver.py, SymPy) as a warm worker. One
// long-lived Python with SymPy imported answers one JSON line per problem in
// milliseconds: the family, the answer, and a finished scene whose text all came
// from SymPy. The person's text reaches it as JSON data, never as source. It runs
// with a bare environment and rlimits; a hung or dead worker is replaced.
import MathreelCore
import MathreelDaemon

public enum SolverReply: Sendable, Equatable {
    case solved(family: String, answer: String, code: String, scene: String)
    /// Not a problem it knows; the message shows how to phrase one.
    case unsupported(String)
    /// The worker could not answer (it died, hung or could not start).
    case unavailable(String)

    public var answer: String? { if case .solved(_, let a, _, _) = self { a } else { nil } }
}

public struct OfflineSolver: Sendable {
    let worker: PythonWorker
    /// Per problem; a worker that takes longer is killed and replaced.
    let timeout: Double

    public init(python: String, source: [UInt8] = OfflineSolver.embeddedSource, timeout: Double = 10) {
        worker = PythonWorker(python: python, source: source, memory: 2 << 30, name: "the offline solver")
        self.timeout = timeout
    }

    public static var embeddedSource: [UInt8] { PackageResources.solver_py }

    /// Starts the worker ahead of the first problem (SymPy's import takes about half a second).
    public func warmUp() async { await worker.warmUp() }

    public func solve(_ problem: String, context: String? = nil) async -> SolverReply {
        let o: JSONObject
        do {
            o = try await worker.exchange(.object(["problem": .string(problem), "context": .string(context ?? "")]), timeout: timeout)
        } catch { return .unavailable("\(error)") }
        if o["ok"] == .bool(true), let family = o["family"]?.stringValue, let answer = o["answer"]?.stringValue,
           let code = o["code"]?.stringValue {
            return .solved(family: family, answer: answer, code: code, scene: o["scene"]?.stringValue ?? "Solution")
        }
        return .unsupported(o["message"]?.stringValue ?? "The offline solver does not know this kind of problem.")
    }

    public func stop() async { await worker.stop() }

    /// The running worker's process id (nil when none runs).
    public func workerPID() async -> Int32? { await worker.pid() }
}
