// The offline solver: its own checker (126 problems over the 17 families, each
// answer against a value computed independently, hostile input, the scenes'
// safety) run as part of the suite, and the daemon's client for it: answers,
// refusals, and a worker that dies or hangs replaced.
@testable import CodegenService
import Foundation
import MathreelCore
import MathreelSolver
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

let checkSolverScript = repoRoot + "/Tests/Solver/check_solver.py"

@Suite struct OfflineSolverTests {
    @Test(.timeLimit(.minutes(3)))
    func everyFamilysAnswersAreRightByIndependentChecks() async throws {
        let r = try await runCommand(manimPython, [checkSolverScript], timeout: 170)
        #expect(r.status.succeeded, "\(r.stdout.suffix(3000))\n\(r.stderr.suffix(2000))")
        #expect(r.stdout.contains("all checks passed"))
        // The set the bench and this test share covers every family with at least five wordings.
        guard case .array(let cases) = try JSONValue.parse(Array(try await runCommand(manimPython, [checkSolverScript, "--list"]).stdout.utf8)) else {
            Issue.record("no problem list"); return
        }
        var perFamily: [String: Int] = [:]
        for c in cases { perFamily[c.objectValue?["family"]?.stringValue ?? "", default: 0] += 1 }
        #expect(perFamily.count == 17 && perFamily.values.allSatisfy { $0 >= 5 }, "\(perFamily)")
    }

    @Test func theDaemonEmbedsEveryModuleOfTheSolverPackageAndNoOther() throws {
        let dir = repoRoot + "/Shared/Solver/solver"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".py") }
        let expected = Set(files.map { $0 == "__init__.py" ? "solver" : "solver." + $0.dropLast(3) })
        #expect(Set(OfflineSolver.modules.map(\.name)) == expected, "a module of solver/ the daemon would not have, or one it names that is gone")
        for (name, source) in OfflineSolver.modules {
            let file = name == "solver" ? "__init__.py" : name.dropFirst("solver.".count) + ".py"
            #expect(FileManager.default.contents(atPath: dir + "/" + file).map(Array.init) == source, "\(name) is embedded as it is on disk")
        }
    }

    /// The daemon's one script (the modules in memory) answers as the package does from disk.
    @Test(.timeLimit(.minutes(1)))
    func theEmbeddedScriptAnswersAsThePackageOnDisk() async throws {
        let problems = ["Solve x^2 - 5x + 6 = 0", "Differentiate x^3 sin(x)", "Find the determinant of [[1, 2], [3, 4]]", "What is 1/2 + 3/4?"]
        let input = problems.map { String(decoding: JSONValue.object(["problem": .string($0)]).serialized(pretty: false), as: UTF8.self)
            .trimmingCharacters(in: .newlines) + "\n" }.joined()
        let disk = try await runCommand(manimPython, ["-I", "-B", repoRoot + "/Shared/Solver/solver_main.py"], input: input, timeout: 50)
        let dir = TempDir()
        let script = dir.path + "/solver-embedded.py"
        try Data(OfflineSolver.embeddedSource).write(to: URL(fileURLWithPath: script))
        let embedded = try await runCommand(manimPython, ["-I", "-B", script], input: input, timeout: 50)
        #expect(disk.status.succeeded && embedded.status.succeeded, "\(disk.stderr.suffix(1500))\n\(embedded.stderr.suffix(1500))")
        #expect(disk.stdout.split(separator: "\n").count == problems.count + 1, "a ready line, then one reply each")
        #expect(embedded.stdout == disk.stdout)
    }

    @Test(.timeLimit(.minutes(1)))
    func theClientSolvesRefusesAndReplacesABrokenWorker() async throws {
        let solver = OfflineSolver(python: manimPython, timeout: 5)
        defer { Task { await solver.stop() } }
        guard case .solved(let s) = await solver.solve("Solve x^2 - 5x + 6 = 0") else { Issue.record("not solved"); return }
        let (code, lesson) = (s.code, s.lesson)
        #expect(s.family == "quadratic" && s.answer == "x = 2, x = 3" && s.scene == "Solution")
        #expect(s.readings == 2 && s.secondReading == "a token parser" && s.modelReading == nil)
        #expect(code.contains("class Solution(Scene)") && !code.contains("x^2 - 5x"), "only SymPy's LaTeX reaches the code")
        // The same answer as a lesson: three scenes, each its own class, the answer in the last.
        #expect(lesson.map(\.scene) == ["Problem", "Steps", "Answer"])
        #expect(lesson.allSatisfy { $0.code.contains("class \($0.scene)(Scene)") && !$0.narration.isEmpty })
        #expect(lesson.last?.narration.first?.contains("x = 2, x = 3") == true)
        guard case .unsupported(let message) = await solver.solve("__import__('os').system('id')") else { Issue.record("not refused"); return }
        #expect(message.contains("solve x^2 - 5x + 6 = 0"), "it shows how to phrase one: \(message)")
        guard case .unsupported(let poem) = await solver.solve("Write me a poem about autumn") else { Issue.record("not refused"); return }
        #expect(poem.contains("MATHREEL_PROVIDERS"), "and where to configure a provider: \(poem)")
        // A follow-up carries the previous problem.
        #expect(await solver.solve("now plot it", context: "differentiate x^3").solution?.family == "plot")
        // The worker dies: the next problem starts a new one.
        let first = try #require(await solver.workerPID())
        // At once: the death need not have been noticed (reaped) before the next problem.
        kill(first, SIGKILL)
        #expect(await solver.solve("integrate x^2 from 0 to 3").answer == "= 9")
        #expect(await solver.workerPID() != first)
    }

    @Test(.timeLimit(.minutes(1)))
    func concurrentProblemsEachGetTheirOwnAnswer() async throws {
        let solver = OfflineSolver(python: manimPython, timeout: 5)
        defer { Task { await solver.stop() } }
        let problems = ["Solve 2x = 4": "x = 2", "Solve 3x = 9": "x = 3", "Solve 4x = 20": "x = 5", "Solve 5x = 35": "x = 7",
                        "determinant of [[1,2],[3,4]]": "det = -2", "integrate x^2 from 0 to 3": "= 9"]
        let answers = await withTaskGroup(of: (String, String?).self) { group in
            for p in problems.keys { group.addTask { (p, await solver.solve(p).answer) } }
            var out: [String: String?] = [:]
            for await (p, a) in group { out[p] = a }
            return out
        }
        for (p, expected) in problems { #expect(answers[p] == expected, "\(p)") }
    }

    @Test(.timeLimit(.minutes(1)))
    func aHungWorkerIsKilledAndTheNextProblemStillAnswered() async throws {
        // A stand-in that answers "ready" and then never again.
        let hang = Array("import json, time\nprint(json.dumps({'ready': True}), flush=True)\ntime.sleep(3600)\n".utf8)
        let stuck = OfflineSolver(python: manimPython, source: hang, timeout: 1)
        guard case .unavailable(let why) = await stuck.solve("Solve 2x = 4") else { Issue.record("answered?"); return }
        #expect(why.contains("did not answer within 1 s"))
        #expect(await stuck.workerPID() == nil, "the stuck worker was stopped")
    }
}
