import MathreelProviders
// Extraction: the Manim code out of a model's reply. Models wrap it in fences,
// talk around it, think aloud in <think> blocks, or split it over several blocks.
enum Extraction {
    /// The code in `reply`, or why there is none.
    static func code(from reply: String) throws(ProviderFailure) -> String {
        var text = reply.replacing("\r\n", with: "\n")
        // Reasoning models: what is inside <think>...</think> is not the answer.
        while let open = text.firstRange(of: "<think>") {
            guard let close = text[open.upperBound...].firstRange(of: "</think>") else {
                text = String(text[..<open.lowerBound]); break
            }
            text.removeSubrange(open.lowerBound..<close.upperBound)
        }
        let blocks = fencedBlocks(text)
        var candidates = blocks.filter { $0.contains("class ") && $0.contains("Scene") }
        if candidates.isEmpty, !blocks.isEmpty {
            // Imports in one block and the scene in another: together they may make the file.
            let joined = blocks.joined(separator: "\n\n")
            if joined.contains("class ") && joined.contains("Scene") { candidates = [joined] }
        }
        if candidates.isEmpty, blocks.isEmpty, text.contains("class "), text.contains("Scene") {
            // No fences: the code starts at its first import or class line.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if let start = lines.firstIndex(where: { $0.hasPrefix("from ") || $0.hasPrefix("import ") || $0.hasPrefix("class ") }) {
                candidates = [lines[start...].joined(separator: "\n")]
            }
        }
        // The longest scene is the whole one; a model's short "usage" snippet is not.
        guard var code = candidates.max(by: { $0.count < $1.count })?.trimmed(), !code.isEmpty else {
            throw .noCode(blocks.isEmpty ? "no code block in the reply" : "no Scene class in the reply's code")
        }
        if !code.contains("import") {
            // Imports a model put in a block of their own belong to the scene.
            let imports = blocks.filter { b in
                let lines = b.split(separator: "\n").map { String($0).trimmed() }.filter { !$0.isEmpty }
                return !lines.isEmpty && lines.allSatisfy { $0.hasPrefix("import ") || $0.hasPrefix("from ") }
            }
            code = (imports.isEmpty ? "from manim import *" : imports.joined(separator: "\n").trimmed()) + "\n\n" + code
        }
        return code + "\n"
    }

    /// The insides of ``` fences (with or without a language tag).
    static func fencedBlocks(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = String(line).trimmed()
            if t.hasPrefix("```") {
                if let c = current { blocks.append(c.joined(separator: "\n")); current = nil } else { current = [] }
            } else if current != nil {
                current!.append(line)
            }
        }
        // An unclosed fence (a reply cut short) still yields its code; the check decides.
        if let c = current, !c.isEmpty { blocks.append(c.joined(separator: "\n")) }
        return blocks
    }
}
