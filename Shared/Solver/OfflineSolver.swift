// OfflineSolver: the built-in solver (the `solver` package, SymPy) as a warm worker. One
// long-lived Python with SymPy imported answers one JSON line per problem in
// milliseconds: the family, the answer, and a finished scene whose text all came
// from SymPy. The person's text reaches it as JSON data, never as source. It runs
// with a bare environment and rlimits; a hung or dead worker is replaced.
import MathreelCore
import MathreelDaemon

/// One scene of the solver's lesson: its plan entry and its finished code.
public struct SolverScene: Sendable, Equatable {
    public var title: String
    public var goal: String
    public var narration: [String]
    public var code: String
    public var scene: String
}

/// The solver's answer and how sure of it it is.
public struct Solution: Sendable, Equatable {
    public var family: String
    public var answer: String
    /// The single scene and its class.
    public var code: String
    public var scene: String
    /// The same answer as scenes (empty when the solver made none).
    public var lesson: [SolverScene]
    /// How many independent readings of the problem agreed (2: the family's and the second parser's; 3: a helper model's too).
    public var readings: Int
    /// How the second reading read the problem.
    public var secondReading: String?
    /// A helper model's restatement held against ours: `agrees` or `not_comparable` (nil when none was asked).
    public var modelReading: String?
}

public enum SolverReply: Sendable, Equatable {
    case solved(Solution)
    /// Not a problem it knows, or readings that disagree; the message shows how to phrase one.
    case unsupported(String)
    /// The worker could not answer (it died, hung or could not start).
    case unavailable(String)

    public var answer: String? { if case .solved(let s) = self { s.answer } else { nil } }
    public var solution: Solution? { if case .solved(let s) = self { s } else { nil } }
}

public struct OfflineSolver: Sendable {
    let worker: PythonWorker
    /// Per problem; a worker that takes longer is killed and replaced.
    let timeout: Double

    public init(python: String, source: [UInt8] = OfflineSolver.embeddedSource, timeout: Double = 10) {
        worker = PythonWorker(python: python, source: source, memory: 2 << 30, name: "the offline solver")
        self.timeout = timeout
    }

    /// The `solver` package's modules as the daemon embeds them: every .py of solver/,
    /// once (a test holds this list against the directory).
    public static let modules: [(name: String, source: [UInt8])] = [
        ("solver", PackageResources.__init___py),
        ("solver.base", PackageResources.base_py),
        ("solver.checks", PackageResources.checks_py),
        ("solver.curves", PackageResources.curves_py),
        ("solver.dispatch", PackageResources.dispatch_py),
        ("solver.family_algebra", PackageResources.family_algebra_py),
        ("solver.family_derivatives", PackageResources.family_derivatives_py),
        ("solver.family_determinants", PackageResources.family_determinants_py),
        ("solver.family_equations", PackageResources.family_equations_py),
        ("solver.family_fractions", PackageResources.family_fractions_py),
        ("solver.family_geometry", PackageResources.family_geometry_py),
        ("solver.family_integrals", PackageResources.family_integrals_py),
        ("solver.family_limits", PackageResources.family_limits_py),
        ("solver.family_plots", PackageResources.family_plots_py),
        ("solver.family_series", PackageResources.family_series_py),
        ("solver.family_systems", PackageResources.family_systems_py),
        ("solver.helpers", PackageResources.helpers_py),
        ("solver.lesson", PackageResources.lesson_py),
        ("solver.printing", PackageResources.printing_py),
        ("solver.reading", PackageResources.reading_py),
        ("solver.reading_expr", PackageResources.reading_expr_py),
        ("solver.scene", PackageResources.scene_py),
        ("solver.text", PackageResources.text_py),
        ("solver.worker", PackageResources.worker_py),
    ]

    /// One script for `python -I -B /dev/fd/3`: the modules as a dict literal (`_SOURCES`,
    /// served by solver_main.py's in-memory importer: nothing is read from disk), then
    /// solver_main.py. Our JSON writer's escapes (\" \\ \n \r \t \u00XX) read the same in Python.
    public static var embeddedSource: [UInt8] {
        let sources = JSONObject(uniqueKeysWithValues: modules.map { ($0.name, JSONValue.string(String(decoding: $0.source, as: UTF8.self))) })
        return Array("_SOURCES = ".utf8) + JSONValue.object(sources).serialized(pretty: false) + [10] + PackageResources.solver_main_py
    }

    /// Starts the worker ahead of the first problem (SymPy's import takes about half a second).
    public func warmUp() async { await worker.warmUp() }

    /// `restated`: a helper model's own restatement of the problem, which must read the same (or not be readable) for an answer.
    public func solve(_ problem: String, context: String? = nil, restated: String? = nil) async -> SolverReply {
        var request: JSONObject = ["problem": .string(problem), "context": .string(context ?? "")]
        if let restated { request["restated"] = .string(restated) }
        let o: JSONObject
        do { o = try await worker.exchange(.object(request), timeout: timeout) } catch { return .unavailable("\(error)") }
        if o["ok"] == .bool(true), let family = o["family"]?.stringValue, let answer = o["answer"]?.stringValue,
           let code = o["code"]?.stringValue {
            let lesson = (o["lesson"]?.arrayValue ?? []).compactMap { v -> SolverScene? in
                guard let s = v.objectValue, let title = s["title"]?.stringValue, let code = s["code"]?.stringValue,
                      let scene = s["scene"]?.stringValue else { return nil }
                return SolverScene(title: title, goal: s["goal"]?.stringValue ?? "",
                                   narration: s["narration"]?.arrayValue?.compactMap(\.stringValue) ?? [], code: code, scene: scene)
            }
            return .solved(Solution(family: family, answer: answer, code: code, scene: o["scene"]?.stringValue ?? "Solution", lesson: lesson,
                                    readings: o["readings"]?.intValue ?? 1, secondReading: o["second_reading"]?.stringValue,
                                    modelReading: o["model_reading"]?.stringValue))
        }
        return .unsupported(o["message"]?.stringValue ?? "The offline solver does not know this kind of problem.")
    }

    public func stop() async { await worker.stop() }

    /// The running worker's process id (nil when none runs).
    public func workerPID() async -> Int32? { await worker.pid() }
}
