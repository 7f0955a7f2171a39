// StaticCheck: the one static check of Manim scene code, which render, codegen
// and ingest's /api/v1/code/validate all call. It runs checker.py (embedded at build
// time, so no data file is installed or looked for) as a warm worker in the Manim
// environment's Python under resource limits, with a bare environment.
// A first filter only: the sandbox is the boundary.
import MathreelCore
import MathreelDaemon
#if canImport(Glibc)
import Glibc
#endif

/// One finding, with the line it is about (0: the whole file).
public struct Finding: Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let message: String
    public init(line: Int, message: String) { self.line = line; self.message = message }
    /// "Line 12: `ShowCreation` is not part of Manim CE 0.22.0; use `Create` (changed for you)."
    public var description: String {
        let m = message.prefix(1).uppercased() + message.dropFirst()
        return line > 0 ? "Line \(line): \(message)" : m
    }
}

public struct CheckResult: Sendable {
    public let valid: Bool
    public let errors: [Finding]
    public let warnings: [Finding]
    /// The Scene class to render.
    public let scene: String?
    public let scenes: [String]
    /// The scenes no other scene of the file subclasses, in file order (direct code renders each).
    public let leaves: [String]
    /// The code with the deterministic renames applied.
    public let code: String
    public let manimVersion: String?
    /// The errors in plain words, one per line, for the person.
    public var message: String { errors.map(\.description).joined(separator: "\n") }
}

public struct CheckUnavailable: Error, CustomStringConvertible, Sendable {
    public let description: String
}

public struct StaticChecker: Sendable {
    public let python: String
    /// Where the installed Manim's names are cached (importing Manim takes a second).
    public let cacheFile: String?
    public var timeout: Double = 30
    /// A warm checker: a Python start costs more than a check.
    let worker: PythonWorker

    public init(python: String, cacheFile: String?) {
        self.python = python; self.cacheFile = cacheFile
        worker = PythonWorker(python: python, source: PackageResources.checker_py, memory: 4 << 30, name: "the static check")
    }

    public init(config: Config) {
        self.init(python: config.python, cacheFile: config.state + "/manim-names.json")
    }

    public func stop() async { await worker.stop() }

    /// The warm checker's process id (nil when none runs).
    public func workerPID() async -> Int32? { await worker.pid() }

    /// Which installed Manim the cached names describe (its file and mtime), once a check has run.
    public func installedStamp() -> String? {
        guard let cacheFile, let text = try? String(contentsOfFile: cacheFile, encoding: .utf8),
              case .object(let o)? = try? JSONValue.parse(Array(text.utf8)) else { return nil }
        return o["stamp"]?.stringValue
    }

    /// Reads the installed Manim's names into the cache now (an import, about a second),
    /// so the first person's job does not pay for it.
    public func prime() async {
        _ = try? await check("from manim import *\n\nclass Warm(Scene):\n    def construct(self):\n        pass\n")
    }

    /// Checks `code`; `scene` names the class to render when the job says which.
    public func check(_ code: String, scene: String? = nil) async throws -> CheckResult {
        var request: JSONObject = ["code": .string(code)]
        if let scene { request["scene"] = .string(scene) }
        if let cacheFile { request["names_cache"] = .string(cacheFile) }
        let o: JSONObject
        do { o = try await worker.exchange(.object(request), timeout: timeout) } catch {
            throw CheckUnavailable(description: "\(error)")
        }
        func findings(_ key: String) -> [Finding] {
            guard case .array(let items)? = o[key] else { return [] }
            return items.compactMap { item in
                guard let f = item.objectValue, let m = f["message"]?.stringValue else { return nil }
                return Finding(line: f["line"]?.intValue ?? 0, message: m)
            }
        }
        var scenes: [String] = []
        if case .array(let a)? = o["scenes"] { scenes = a.compactMap(\.stringValue) }
        let leaves = o["leaves"]?.arrayValue?.compactMap(\.stringValue) ?? scenes
        return CheckResult(valid: o["valid"] == .bool(true), errors: findings("errors"), warnings: findings("warnings"),
                           scene: o["scene"]?.stringValue, scenes: scenes, leaves: leaves, code: o["code"]?.stringValue ?? code,
                           manimVersion: o["manim_version"]?.stringValue)
    }
}
