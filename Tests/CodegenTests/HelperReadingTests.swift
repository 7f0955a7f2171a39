// The helper model's reading (MATHREEL_HELPER_MODEL) through a running mathreel-codegen:
// a restatement that reads the same confirms the answer (three readings); one that
// swaps a number's role is refused, never animated; a helper that is down leaves the
// solver's two readings standing. And the solver's side of it, and the reply's parsing.
import Foundation
import MathreelCore
import MathreelProviders
import MathreelSolver
import MathreelSpool
import Testing
import TestSupport
@testable import CodegenService

let triangle = "A right triangle has a hypotenuse of 13 and a leg of 5. Find the other leg."
let areaUnder = "What is the area under y = x^2 between x = 1 and x = 3?"

@Suite(.serialized) struct HelperReadingTests {
    @Test(.timeLimit(.minutes(2)))
    func theHelpersReadingConfirmsRefusesOrIsDoneWithout() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let server = try FakeHTTPServer { r in
            let asked = r.text
            if asked.contains("hypotenuse of 13") { return .json(200, chatCompletion(#"{"restated": "the hypotenuse is 13 and one leg is 5"}"#)) }
            // The bounds read from 0: a different problem.
            if asked.contains("area under") { return .json(200, chatCompletion("Sure.\n\n\"integrate x^2 from x = 0 to x = 3\"")) }
            return .json(503, #"{"error":"Service Unavailable"}"#)
        }
        var env = chainSettings(server, "offline")
        env["HELPER_MODEL"] = "groq:reader-1"  // sf_backend's name; groq is keyed but not in the chain
        let daemon = try StartedDaemon.start("mathreel-codegen", dir, env)
        defer { daemon.kill() }

        let agreed = try submitProblem(spool, triangle)
        #expect(await waitUntil(timeout: 60) { count(spool, .render) == 1 }, "\(daemon.log)")
        let job = try #require(jobs(in: spool, .render).first { $0.id == agreed })
        let readings = try #require(job.codegen?.readings)
        #expect(readings.count == 3 && readings.outcome == "agrees" && readings.helper == "groq:reader-1"
                && readings.restated == "the hypotenuse is 13 and one leg is 5" && readings.second != nil, "\(readings)")
        #expect(job.codegen?.answer?.contains("12") == true && job.codegen?.provider == "offline")
        // The helper is asked for its own reading: our answer is not in the request, its model is the one named.
        let request = try #require(server.requests.first)
        #expect(request.json?.objectValue?["model"]?.stringValue == "reader-1")
        #expect(request.text.contains("hypotenuse of 13") && !request.text.contains("12"), "\(request.text)")

        let swapped = try submitProblem(spool, areaUnder)
        #expect(await waitUntil(timeout: 60) { count(spool, .failed) == 1 }, "\(daemon.log)")
        let failed = try #require(jobs(in: spool, .failed).first)
        #expect(failed.id == swapped && failed.error?.code == ErrorCode.unsupportedProblem)
        #expect(failed.error?.message.contains("helper model read it another") == true
                && failed.error?.message.contains("integrate x^2 from x = 0 to x = 3") == true, "\(failed.error?.message ?? "")")
        #expect(failed.codegen?.readings?.outcome == "disagrees" && failed.codegen?.readings?.count == 0)
        #expect(failed.codegen?.answer == nil, "no answer is recorded for a refused problem")
        #expect(!FileManager.default.fileExists(atPath: dir.spool + "/artifacts/\(swapped)/scene-1.py"), "nothing was planned")

        let alone = try submitProblem(spool, "Solve x^2 - 5x + 6 = 0")
        #expect(await waitUntil(timeout: 60) { count(spool, .render) == 2 }, "\(daemon.log)")
        let stood = try #require(jobs(in: spool, .render).first { $0.id == alone })
        #expect(stood.codegen?.readings?.count == 2 && stood.codegen?.readings?.outcome?.hasPrefix("unavailable: ") == true,
                "\(String(describing: stood.codegen?.readings))")
        #expect(stood.codegen?.answer == "x = 2, x = 3")
        #expect(await daemon.stop() == .exited(0))
    }

    @Test(.timeLimit(.minutes(1)))
    func theSolverHoldsARestatementAgainstItsOwnReading() async throws {
        let solver = OfflineSolver(python: manimPython, timeout: 10)
        defer { Task { await solver.stop() } }
        let same = try #require(await solver.solve(triangle, restated: "the hypotenuse is 13 and one leg is 5").solution)
        #expect(same.readings == 3 && same.modelReading == "agrees")
        // The leg taken for the hypotenuse: the same family, other quantities.
        guard case .unsupported(let why) = await solver.solve(triangle, restated: "legs 13 and 5, find the hypotenuse") else {
            Issue.record("a swapped role was not refused"); return
        }
        #expect(why.contains("won't guess") && why.contains("the hypotenuse is 13 and one leg is 5"), "\(why)")
        // Another kind of problem, or words we do not read: no verdict, our two readings stand.
        for other in ["sqrt(13^2 - 5^2)", "what is love", "", String(repeating: "x", count: 5000), "integrate $(rm -rf /)"] {
            let s = try #require(await solver.solve(triangle, restated: other).solution, "\(other.prefix(40))")
            #expect(s.readings == 2 && s.modelReading == "not_comparable")
        }
        // A problem the solver refuses is refused whatever the helper says.
        #expect(await solver.solve("Write me a poem", restated: "solve x = 1").solution == nil)
    }

    @Test func theRestatementIsReadFromWhatModelsReply() throws {
        #expect(try Restatement.parse(#"{"restated": "legs 3 and 4, find the hypotenuse"}"#) == "legs 3 and 4, find the hypotenuse")
        #expect(try Restatement.parse("<think>the legs are 3 and 4 {x}</think>\n```json\n{\"restated\": \"legs 3 and 4\"}\n```") == "legs 3 and 4")
        #expect(try Restatement.parse("Here it is:\n\n`integrate x^2 from x = 1 to x = 3`\n") == "integrate x^2 from x = 1 to x = 3")
        #expect(try Restatement.parse("\"solve 3x + 5 = 20\u{7}\"") == "solve 3x + 5 = 20")
        #expect(throws: ProviderFailure.self) { try Restatement.parse("   \n```\n") }
        #expect(throws: ProviderFailure.self) { try Restatement.parse(#"{"restated": ""}"#) }
        #expect(throws: ProviderFailure.self) { try Restatement.parse(String(repeating: "1 + ", count: 200)) }
    }
}
