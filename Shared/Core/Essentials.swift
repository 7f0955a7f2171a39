// The Foundation every mathreel module sees, and stand-ins for the little it lacks.
// The daemons link FoundationEssentials only: full Foundation would also load
// ICU and its internationalization library, ~6 MB of resident memory per daemon.
#if canImport(FoundationEssentials)
@_exported import FoundationEssentials
#else
@_exported import Foundation
#endif

extension String {
    /// At most `limit` characters, an ellipsis marking a cut (chat messages, captions, history).
    public func clipped(to limit: Int) -> String {
        count <= limit ? self : String(prefix(limit - 1)) + "…"
    }

    /// Without leading or trailing whitespace and newlines: the scalars Foundation's
    /// `.whitespacesAndNewlines` trims, i.e. Unicode White_Space plus U+200B.
    public func trimmed() -> String {
        func keep(_ u: Unicode.Scalar) -> Bool { !u.properties.isWhitespace && u != "\u{200B}" }
        let s = unicodeScalars
        guard let first = s.firstIndex(where: keep), let last = s.lastIndex(where: keep) else { return "" }
        return String(String.UnicodeScalarView(s[first...last]))
    }
}

/// What /health and `--version` report.
public enum MathreelVersion {
    public static let string = "0.6.0"
}
