// What a model is told: the rules for Manim CE 0.22, a worked example, the
// matching parts of the installed Manim's docs (indexed into FTS5), the verified
// answer, the previous problem of a follow-up, and a repair request.
@testable import CodegenService
import Foundation
import MathreelCheck
import MathreelDaemon
import Testing
import TestSupport

@Suite struct PromptTests {
    @Test(.timeLimit(.minutes(2)))
    func theInstalledManimsDocsAreIndexedAndTheMatchingOnesRetrieved() async throws {
        let dir = TempDir("mathreel-docs")
        let docs = DocsIndex(state: dir.path, python: manimPython)
        #expect(docs.stamp() == nil)
        try await docs.ensure(installed: nil)
        let stamp = try #require(docs.stamp())
        #expect(stamp.contains("manim/__init__.py@"))
        let area = docs.snippets(for: "Find the area under y = x^2 between 0 and 3")
        #expect(!area.isEmpty && area.count <= 3 && area.contains { $0.contains("get_area(") }, "\(area.map { $0.prefix(60) })")
        let matrix = docs.snippets(for: "determinant of the matrix [[1,2],[3,4]]")
        #expect(matrix.contains { $0.contains("Matrix") })
        #expect(docs.snippets(for: "\" OR docs MATCH 'x' --").count <= 3, "the person's words never become query syntax")
        // An index for this Manim is not built again.
        let before = try FileManager.default.attributesOfItem(atPath: docs.path)[.modificationDate] as? Date
        try await docs.ensure(installed: stamp)
        #expect(try FileManager.default.attributesOfItem(atPath: docs.path)[.modificationDate] as? Date == before)
    }

    @Test(.timeLimit(.minutes(5)))
    func theWorkedExamplesPassTheStaticCheck() async throws {
        // Manim's names are read once into the cache; the first import may be slow on a busy machine.
        let dir = TempDir("mathreel-examples")
        var checker = StaticChecker(python: manimPython, cacheFile: dir.path + "/manim-names.json")
        checker.timeout = 120
        for example in [Prompt.exampleCode, Prompt.graphCode] {
            let code = try Extraction.code(from: example)
            let r = try await checker.check(code)
            #expect(r.valid && r.warnings.isEmpty, "\(r.message)")
        }
    }

    @Test func thePromptCarriesTheRulesTheAnswerTheContextAndTheSnippets() {
        let m = Prompt.messages(problem: "  and the derivative? ", context: "Plot y = x^3", verifiedAnswer: "f'(x) = 3x^2", snippets: ["Axes.plot(...)"])
        #expect(m.first?.role == "system" && m.first?.content.contains("Manim Community Edition 0.22") == true)
        #expect(m.first?.content.contains("Create (not ShowCreation)") == true && m.first?.content.contains("MathTex(r\"") == true)
        // Two worked examples, each a user problem and the assistant's whole file.
        #expect(m.count == 6 && m[1].role == "user" && m[2].role == "assistant" && m[2].content.contains("```python"))
        #expect(m[4].content.contains("ax.plot(lambda x: x**2 - 4") && m[4].content.contains(#"MathTex(r"x = -2 \quad"#))
        let user = m[5].content
        #expect(user.contains("The previous problem in this conversation was: Plot y = x^3"))
        #expect(user.contains("Problem: and the derivative?"))
        #expect(user.contains("Verified answer (computed with SymPy): f'(x) = 3x^2"))
        #expect(user.contains("---\nAxes.plot(...)"))
        let r = Prompt.repair(m, code: "bad code", error: "Line 3: NameError")
        #expect(r.count == 8 && r[6].content.contains("bad code") && r[7].content.contains("Line 3: NameError"))
    }
}
