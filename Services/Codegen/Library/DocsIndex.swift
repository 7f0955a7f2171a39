// DocsIndex: retrieval for the prompt. The installed Manim's own docstrings and
// examples, indexed into SQLite FTS5 in the state directory (indexer.py, run when
// the index is missing or Manim changed), and the few entries that match a
// problem, found with bm25.
import MathreelCore
import MathreelDaemon
import MathreelSQLite

public struct DocsIndex: Sendable {
    public let path: String
    let python: String

    public init(state: String, python: String) {
        path = state + "/manim-docs.sqlite"
        self.python = python
    }

    /// The installed Manim the index describes (its stamp), if there is an index.
    public func stamp() -> String? {
        guard let db = try? Database(path: path, readOnly: true) else { return nil }
        return (try? db.query("SELECT value FROM meta WHERE key = 'stamp'"))?.first?.first ?? nil
    }

    /// Builds the index unless one for `installed` (the checker's stamp of Manim) is there.
    public func ensure(installed: String?) async throws {
        if let have = stamp(), installed == nil || have == installed { return }
        let r = try await PythonScript.run(python: python, source: PackageResources.indexer_py, arguments: [path], timeout: 120)
        guard r.termination.succeeded else {
            throw ChildError(description: "indexing Manim's docs failed (\(r.termination)): \(String(decoding: r.stderr.suffix(1000), as: UTF8.self))")
        }
    }

    /// Words of a problem that say which parts of Manim it needs.
    static let hints: [(words: [String], terms: [String])] = [
        (["plot", "graph", "sketch", "function", "curve", "parabola", "quadratic", "roots", "intersection", "system"], ["Axes", "plot", "Dot"]),
        (["derivative", "differentiate", "tangent", "slope"], ["plot_derivative_graph", "TangentLine"]),
        (["integral", "integrate", "area", "antiderivative"], ["get_area", "get_riemann_rectangles"]),
        (["limit", "approaches"], ["ValueTracker", "always_redraw"]),
        (["triangle", "pythagoras", "pythagorean", "hypotenuse"], ["Polygon", "RightAngle", "Brace"]),
        (["circle", "radius", "diameter", "circumference"], ["Circle", "Line", "Brace"]),
        (["matrix", "determinant"], ["Matrix", "get_det_text"]),
        (["series", "sequence", "sum"], ["MathTex", "VGroup", "arrange"]),
        (["fraction", "fractions"], ["MathTex", "TransformMatchingTex"]),
        (["equation", "solve", "factor", "expand", "simplify"], ["MathTex", "TransformMatchingTex", "SurroundingRectangle"]),
    ]

    /// At most `limit` entries that match `problem`, each cut to `size` characters.
    public func snippets(for problem: String, limit: Int = 3, size: Int = 900) -> [String] {
        let words = Set(problem.lowercased().split { !$0.isLetter }.map(String.init).filter { $0.count >= 3 })
        var terms = DocsIndex.hints.filter { !words.isDisjoint(with: $0.words) }.flatMap(\.terms)
        if terms.isEmpty { terms = ["MathTex", "SurroundingRectangle"] }
        // Quoted: FTS5 reads each as a plain string, never as query syntax.
        let query = terms.map { "\"\($0.replacing("\"", with: ""))\"" }.joined(separator: " OR ")
        guard let db = try? Database(path: path, readOnly: true),
              let rows = try? db.query("SELECT text FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", [.text(query), .int(Int64(limit))]) else {
            return []
        }
        return rows.compactMap { $0.first ?? nil }.map { String($0.prefix(size)) }
    }
}
