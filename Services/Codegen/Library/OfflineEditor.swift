// OfflineEditor: the edits mathreel makes without a model, in a small vocabulary
// (README, "Editing a scene"): slower, faster, larger, smaller, a colour, show each
// step. A request with any other word is not guessed at: the caller says a model is
// needed. The scene's class is subclassed (offline_edit.py) with its pace, zoom and
// pause; a colour replaces the scene's highlight colour (YELLOW at first) by name.
import MathreelCore

enum OfflineEditor {
    static let vocabulary = "slower, faster, larger, smaller, a colour (red, green, blue, orange, purple, teal, pink, white, yellow, gold, grey), show each step"

    static let colours = ["red": "RED", "green": "GREEN", "blue": "BLUE", "orange": "ORANGE", "purple": "PURPLE", "teal": "TEAL",
                          "pink": "PINK", "white": "WHITE", "yellow": "YELLOW", "gold": "GOLD", "grey": "GREY", "gray": "GREY"]
    /// Words that carry no change of their own ("make it a bit slower, please").
    static let filler: Set<String> = ["make", "it", "its", "a", "an", "bit", "little", "the", "scene", "please", "more", "much", "and",
                                      "in", "colour", "color", "to", "use", "this", "that", "answer", "highlight", "highlights",
                                      "text", "with", "of", "lot", "slightly", "everything", "be", "should", "can", "you", "i", "want",
                                      "would", "like", "so", "all", "too", "very", "some", "way", "each", "step", "steps", "show", "by",
                                      "one", "at", "time", "after", "pause", "pauses", "down", "up", "speed", "slow"]

    struct Change: Equatable {
        var pace = 1.0, zoom = 1.0
        var pause: Double?
        var colour: String?
    }

    /// The change `prompt` asks for, or nil when any of its words is outside the vocabulary.
    static func understand(_ prompt: String) -> Change? {
        let text = prompt.lowercased()
        let words = text.split(whereSeparator: { !$0.isLetter }).map(String.init)
        var change = Change(), said = false
        for w in words {
            switch w {
            case "slower": change.pace *= 1.5; said = true
            case "faster", "quicker": change.pace /= 1.5; said = true
            case "larger", "bigger": change.zoom *= 1.15; said = true
            case "smaller": change.zoom /= 1.15; said = true
            default:
                if let c = colours[w] { change.colour = c; said = true } else if !filler.contains(w) { return nil }
            }
        }
        let phrases = ["show each step", "step by step", "one step at a time", "pause after each step", "each step"]
        if phrases.contains(where: text.contains) { change.pause = 1.0; said = true }
        if text.contains("slow down") { change.pace *= 1.5; said = true }
        if text.contains("speed up") { change.pace /= 1.5; said = true }
        return said ? change : nil
    }

    /// `code` with `change` made to its scene `scene`; the new code and its scene class, or why not.
    enum Applied {
        case edited(code: String, scene: String)
        case refused(String)
    }

    static func apply(_ change: Change, to code: String, scene: String) -> Applied {
        var lines = code.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let edited = scene.hasSuffix("Edited") && lines.contains { $0.hasPrefix("    mathreel_pace = ") }
        let base = edited ? String(scene.dropLast("Edited".count)) : scene
        if let colour = change.colour {
            // The highlight is YELLOW until an edit renamed it; the block records which it is now.
            let current = lines.first { $0.hasPrefix("# highlight: ") }.map { String($0.dropFirst("# highlight: ".count)) } ?? "YELLOW"
            let body = lines.prefix { !$0.hasPrefix("# mathreel's offline edits") }
            guard body.contains(where: { $0.contains(current) }) else {
                return .refused("this scene has no highlight colour (\(current)) to change")
            }
            lines = lines.map { $0.hasPrefix("# highlight: ") ? "# highlight: \(colour)" : OfflineEditor.replacing(word: current, with: colour, in: $0) }
            if !lines.contains(where: { $0.hasPrefix("# highlight: ") }) { lines.append("# highlight: \(colour)") }
        }
        if !edited {
            let block = String(decoding: PackageResources.offline_edit_py, as: UTF8.self)
                .replacing("class BaseEdited(Base):", with: "class \(base)Edited(\(base)):")
            lines += [""] + block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        func number(_ name: String) -> Double {
            lines.first { $0.hasPrefix("    \(name) = ") }.flatMap { Double($0.dropFirst(name.count + 7)) } ?? (name == "mathreel_pause" ? 0 : 1)
        }
        // Bounded, so a hundred "slower"s make a slow scene, not an endless one.
        let pace = min(4, max(0.25, number("mathreel_pace") * change.pace))
        let zoom = min(1.6, max(0.6, number("mathreel_zoom") * change.zoom))
        let pause = change.pause ?? number("mathreel_pause")
        lines = lines.map { line in
            if line.hasPrefix("    mathreel_pace = ") { return "    mathreel_pace = \(rounded(pace))" }
            if line.hasPrefix("    mathreel_zoom = ") { return "    mathreel_zoom = \(rounded(zoom))" }
            if line.hasPrefix("    mathreel_pause = ") { return "    mathreel_pause = \(rounded(pause))" }
            return line
        }
        return .edited(code: lines.joined(separator: "\n"), scene: base + "Edited")
    }

    /// Three decimals, always with a point (Swift writes 2.0 as "2.0"), so Python reads a float.
    static func rounded(_ v: Double) -> String { "\((v * 1000).rounded() / 1000)" }

    /// `word` replaced where it stands as a whole name (YELLOW, not YELLOW_A).
    static func replacing(word: String, with other: String, in line: String) -> String {
        var out = "", rest = Substring(line)
        while let r = rest.firstRange(of: word) {
            let before = rest[..<r.lowerBound].last, after = rest[r.upperBound...].first
            let whole = !(before.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false) && !(after.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false)
            out += rest[..<r.lowerBound] + (whole ? other : word)
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
