// HelperReading: the third reading of a problem (MATHREEL_HELPER_MODEL). The helper
// model restates the problem in plain notation without solving it
// (prompt/reading_prompt.md); the offline solver's own family reads that line, and
// an answer whose quantities differ from it is refused, never animated. A helper
// that is down or unreadable leaves the solver's two readings standing, recorded.
import MathreelCore
import MathreelProviders
import MathreelSolver

extension Prompt {
    static let readingSystem = String(decoding: PackageResources.reading_prompt_md, as: UTF8.self).trimmed()

    /// The helper's request: the problem (and a follow-up's previous one), nothing of our answer.
    static func reading(problem: String, context: String?) -> [ChatMessage] {
        var user = ""
        if let context, !context.trimmed().isEmpty {
            user += "The previous problem in this conversation was: \(context.trimmed())\nThe new message may refer to it.\n\n"
        }
        user += "Problem: \(problem.trimmed())"
        return [ChatMessage("system", readingSystem), ChatMessage("user", user)]
    }
}

enum Restatement {
    /// The longest restatement kept (the solver refuses longer problems anyway).
    static let limit = 400

    /// The restated line in a helper's reply: `{"restated": ...}`, else its last non-empty line.
    static func parse(_ reply: String) throws(ProviderFailure) -> String {
        var text = reply
        while let close = text.firstRange(of: "</think>") { text = String(text[close.upperBound...]) }
        var line: String?
        if let open = text.firstIndex(of: "{"), let close = text.lastIndex(of: "}"), open < close,
           let v = try? JSONValue.parse(Array(text[open...close].utf8)) {
            line = v.objectValue?["restated"]?.stringValue
        }
        if line == nil {
            line = text.split(whereSeparator: \.isNewline).map { String($0).trimmed() }
                .last { !$0.isEmpty && !$0.hasPrefix("```") }
        }
        let clean = String(String.UnicodeScalarView((line ?? "").unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }))
            .trimmed().trimmingQuotes()
        guard !clean.isEmpty else { throw .noCode("the helper gave no restatement") }
        guard clean.count <= limit else { throw .noCode("the helper's restatement is longer than \(limit) characters") }
        return clean
    }
}

extension String {
    fileprivate func trimmingQuotes() -> String {
        var s = Substring(self)
        while let f = s.first, let l = s.last, s.count >= 2, f == l, "\"'`".contains(f) { s = s.dropFirst().dropLast() }
        return String(s).trimmed()
    }
}

extension Codegen {
    /// The offline reply once the helper's reading has been held against it, and what the job records.
    /// Only a solved reply is checked; without a helper it stands on the solver's two readings.
    func heldAgainstHelper(_ offline: SolverReply, problem: String, context: String?, job: Job,
                           calls: inout [Call]) async -> (SolverReply, Readings?) {
        guard let solution = offline.solution else { return (offline, nil) }
        var readings = Readings(count: solution.readings, second: solution.secondReading)
        guard let helper = settings.helper else { return (offline, readings) }
        readings.helper = "\(helper.name.rawValue):\(helper.model)"
        let tried = await attempt(helper.name, helper, job: job, calls: &calls, label: "second reading") { p throws(ProviderFailure) in
            try Restatement.parse(try await p.complete(Prompt.reading(problem: problem, context: context), via: http).text)
        }
        guard case .done(let restated) = tried else {
            readings.outcome = "unavailable: " + (calls.last?.outcome ?? "no reply")
            return (offline, readings)
        }
        readings.restated = restated
        switch await solver.solve(problem, context: context, restated: restated) {
        case .solved(let held):
            readings.count = held.readings
            readings.outcome = held.modelReading ?? "not_comparable"
            return (.solved(held), readings)
        case .unsupported(let why):
            logger.warning("the helper model read the problem otherwise; no answer is stated",
                           metadata: ["job_id": "\(job.id)", "restated": "\(restated)"])
            readings.count = 0
            readings.outcome = "disagrees"
            return (.unsupported(why), readings)
        case .unavailable(let why):
            readings.outcome = "unavailable: the solver: \(why)"
            return (offline, readings)
        }
    }
}
