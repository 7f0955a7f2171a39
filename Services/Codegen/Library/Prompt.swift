// Prompt: what a model is told. A system prompt written for Manim CE 0.22
// (prompt/system_prompt.md: its frame, raw strings for LaTeX, one Scene, the names
// models get wrong, no files or network), two worked examples (prompt/example_*.py),
// snippets of the installed Manim's own docs that match the problem, the offline solver's verified answer, the previous problem
// of a follow-up, and the repair request with the failing code and its error.
import MathreelCore
import MathreelProviders

public enum Prompt {
    // The rules and the two worked examples are files of their own (prompt/), embedded at
    // build time; the examples are checked by the static check like any model's code.
    static let system = String(decoding: PackageResources.system_prompt_md, as: UTF8.self).trimmed()

    static let exampleProblem = "Solve 2x + 3 = 11"
    static let exampleCode = fenced(PackageResources.example_linear_py)

    static let graphProblem = "Where does y = x^2 - 4 cross the x-axis?"
    static let graphCode = fenced(PackageResources.example_graph_py)

    /// A file of code as a model's reply: one ```python block.
    static func fenced(_ source: [UInt8]) -> String { "```python\n" + String(decoding: source, as: UTF8.self) + "```" }

    /// The first request for `problem`.
    public static func messages(problem: String, context: String?, verifiedAnswer: String?, snippets: [String]) -> [ChatMessage] {
        var user = ""
        if let context, !context.trimmed().isEmpty {
            user += "The previous problem in this conversation was: \(context.trimmed())\nThe new message may refer to it.\n\n"
        }
        user += "Problem: \(problem.trimmed())\n"
        if let verifiedAnswer {
            user += "\nVerified answer (computed with SymPy): \(verifiedAnswer). The animation must arrive at this answer.\n"
        }
        if !snippets.isEmpty {
            user += "\nFrom the installed Manim's documentation, in case it helps:\n"
            for s in snippets { user += "---\n\(s)\n" }
        }
        return [ChatMessage("system", system),
                ChatMessage("user", "Problem: \(exampleProblem)"), ChatMessage("assistant", exampleCode),
                ChatMessage("user", "Problem: \(graphProblem)"), ChatMessage("assistant", graphCode),
                ChatMessage("user", user)]
    }

    /// The same conversation once more, with the code that failed and why.
    public static func repair(_ messages: [ChatMessage], code: String, error: String) -> [ChatMessage] {
        messages + [
            ChatMessage("assistant", "```python\n\(code)\n```"),
            ChatMessage("user", """
                That code failed:
                \(error.prefix(3000))

                Fix it. Keep the same animation where you can, follow every rule above, and reply with the whole \
                corrected file in one ```python block.
                """),
        ]
    }
}
