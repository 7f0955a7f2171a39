// Captions: a narrated lesson's text tracks, made from the times its render recorded
// (plan.scenes[].narration_at and the scene boundaries), never from an estimate.
// captions.vtt has one cue per sentence (a sentence longer than two lines of 42
// characters is split at word boundaries into cues timed by their share of its
// characters); chapters.vtt one cue per scene; the ffmetadata chapters go into the
// video file; transcript.txt is the whole lesson as plain text.
import MathreelCore

public struct Cue: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var text: String
    public init(start: Double, end: Double, text: String) { self.start = start; self.end = end; self.text = text }
}

public enum Captions {
    /// A caption line's most characters, and a cue's most lines (the BBC's and Netflix's rule).
    public static let lineLength = 42
    public static let maxLines = 2

    /// `HH:MM:SS.mmm`, as WebVTT writes a time.
    public static func timestamp(_ seconds: Double) -> String {
        let ms = Int((max(0, seconds) * 1000).rounded())
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let frac = ms % 1000
        return "\(two(ms / 3_600_000)):\(two(ms / 60_000 % 60)):\(two(ms / 1000 % 60)).\(frac < 10 ? "00" : frac < 100 ? "0" : "")\(frac)"
    }

    /// Cue text: one line of printable characters, with what WebVTT gives a meaning escaped.
    static func clean(_ s: String) -> String {
        let flat = String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : $0 }))
        return flat.split(separator: " ").joined(separator: " ")
            .replacing("&", with: "&amp;").replacing("<", with: "&lt;")
            .replacing(">", with: "&gt;")
    }

    /// Words into lines of at most `lineLength` characters (a longer word is cut).
    static func lines(_ text: String) -> [String] {
        var out: [String] = [], line = ""
        for word in text.split(separator: " ") {
            var word = Substring(word)
            while word.count > lineLength {
                if !line.isEmpty { out.append(line); line = "" }
                out.append(String(word.prefix(lineLength))); word = word.dropFirst(lineLength)
            }
            if !line.isEmpty, line.count + 1 + word.count > lineLength { out.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { out.append(line) }
        return out
    }

    /// The cues of one sentence spoken from `start` to `end`: its lines two at a time, each
    /// cue's share of the time its share of the characters.
    public static func cues(_ sentence: String, start: Double, end: Double) -> [Cue] {
        let all = lines(sentence)
        guard !all.isEmpty, end > start else { return [] }
        let groups = stride(from: 0, to: all.count, by: maxLines).map { all[$0..<min(all.count, $0 + maxLines)].joined(separator: "\n") }
        let total = Double(groups.reduce(0) { $0 + $1.count })
        var at = start, out: [Cue] = []
        for (i, g) in groups.enumerated() {
            let next = i == groups.count - 1 ? end : at + (end - start) * Double(g.count) / total
            out.append(Cue(start: at, end: next, text: g))
            at = next
        }
        return out
    }

    public static func webVTT(_ cues: [Cue], kind: String) -> String {
        var out = "WEBVTT - mathreel \(kind)\n"
        for (i, c) in cues.enumerated() {
            // Escaped per line: a cue's own line breaks are its lines.
            let text = c.text.split(separator: "\n").map { clean(String($0)) }.joined(separator: "\n")
            out += "\n\(i + 1)\n\(timestamp(c.start)) --> \(timestamp(c.end))\n\(text.isEmpty ? "-" : text)\n"
        }
        return out
    }

    /// ffmpeg's chapters (`;FFMETADATA1`), in milliseconds.
    public static func ffmetadata(_ chapters: [Cue]) -> String {
        func escaped(_ s: String) -> String {
            var o = ""
            for ch in clean(s) { if "=;#\\".contains(ch) { o.append("\\") }; o.append(ch) }
            return o
        }
        var out = ";FFMETADATA1\n"
        for c in chapters {
            out += "\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=\(Int((c.start * 1000).rounded()))\nEND=\(Int((c.end * 1000).rounded()))\ntitle=\(escaped(c.text))\n"
        }
        return out
    }
}

/// One scene's part of a narrated lesson: where it lies in the video, and when each of its sentences began.
public struct NarratedScene: Sendable {
    public var title: String
    public var start: Double
    public var end: Double
    public var sentences: [(text: String, at: Double, seconds: Double)]
    public init(title: String, start: Double, end: Double, sentences: [(text: String, at: Double, seconds: Double)]) {
        self.title = title; self.start = start; self.end = end; self.sentences = sentences
    }
}

extension Captions {
    /// Every sentence's cues, in the lesson's time. A cue ends when its speech does, or where
    /// the next begins, or at its scene's end.
    public static func captions(_ scenes: [NarratedScene]) -> [Cue] {
        var out: [Cue] = []
        for s in scenes {
            for (i, sentence) in s.sentences.enumerated() {
                let start = s.start + sentence.at
                var end = min(start + sentence.seconds, s.end)
                if i + 1 < s.sentences.count { end = min(end, s.start + s.sentences[i + 1].at) }
                out += cues(sentence.text, start: start, end: end)
            }
        }
        return out
    }

    public static func chapters(_ scenes: [NarratedScene]) -> [Cue] {
        scenes.map { Cue(start: $0.start, end: $0.end, text: $0.title) }
    }

    /// The lesson as text (WCAG 1.2.8's alternative): the problem, each scene's title and
    /// what is said in it, and the answer.
    public static func transcript(problem: String?, scenes: [(title: String, narration: [String])], answer: String?) -> String {
        var out = "mathreel lesson transcript\n"
        if let problem, !problem.isEmpty { out += "\nProblem: \(problem)\n" }
        for (i, s) in scenes.enumerated() {
            out += "\n\(i + 1). \(s.title)\n"
            for line in s.narration { out += "   \(line)\n" }
        }
        if let answer, !answer.isEmpty { out += "\nAnswer: \(answer)\n" }
        return out
    }
}
