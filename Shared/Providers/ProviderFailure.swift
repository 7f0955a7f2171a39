// ProviderFailure: every way a provider call can fail, classified once from the
// status, the body and the rate-limit headers (each provider's documented errors and rate-limit headers, e.g. console.groq.com/docs/rate-limits). The chain
// decides from the kind: fail over or not, and what the breaker does.
import MathreelCore
import MathreelHTTP
#if canImport(Glibc)
import Glibc
#endif

public enum ProviderFailure: Error, Equatable, CustomStringConvertible {
    case timeout(String)
    case connection(String)
    /// 429 and friends: try this provider again after `retryAfter` seconds (when known).
    case rateLimited(retryAfter: Double?, String)
    /// Daily or monthly allowance used up: not before `until`.
    case quotaExhausted(until: Date, String)
    case server(Int, String)
    /// A bad key or a model that is gone: the operator must act.
    case configuration(Int, String)
    /// Our own request was refused (400): every provider would refuse it too.
    case badRequest(String)
    case malformed(String)
    /// The reply stopped at its length limit.
    case truncated
    /// A reply without usable code (no block, no Scene, or it failed the check twice).
    case noCode(String)

    public var description: String {
        switch self {
        case .timeout(let s): "timed out (\(s))"
        case .connection(let s): "could not connect (\(s))"
        case .rateLimited(let after, let s): "rate limited\(after.map { ", retry after \(Int($0.rounded())) s" } ?? "") (\(s))"
        case .quotaExhausted(let until, let s): "quota used up until \(Timestamp.string(until)) (\(s))"
        case .server(let status, let s): "server error \(status) (\(s))"
        case .configuration(let status, let s): "refused our key or model, HTTP \(status) (\(s))"
        case .badRequest(let s): "refused our request as malformed, HTTP 400 (\(s))"
        case .malformed(let s): "sent a malformed reply (\(s))"
        case .truncated: "cut its reply off at the length limit"
        case .noCode(let s): "sent no usable code (\(s))"
        }
    }

    /// Whether the next provider should be tried (a 400 of ours would fail everywhere).
    public var failsOver: Bool { if case .badRequest = self { false } else { true } }

    /// Whether the same provider may do better later (an outage, a limit, a cut reply); a model
    /// that answered without usable code, or our own bad request, will not.
    public var mayPassWithTime: Bool {
        switch self {
        case .noCode, .badRequest: false
        default: true
        }
    }

    /// The body's own words, whichever error shape the provider uses.
    static func message(_ r: HTTPResponse) -> String {
        guard case .object(let o)? = r.json else { return String(r.text.prefix(300)) }
        if let s = o["error"]?.stringValue { return s }
        if let e = o["error"]?.objectValue, let m = e["message"]?.stringValue { return m }
        if case .array(let errors)? = o["errors"], let m = errors.first?.objectValue?["message"]?.stringValue { return m }
        return String(r.text.prefix(300))
    }

    static func classify(_ r: HTTPResponse, provider: ProviderName, now: Date) -> ProviderFailure {
        let text = message(r)
        let lower = text.lowercased()
        let object = r.json?.objectValue ?? [:]
        let code = object["error"]?.objectValue?["code"]?.stringValue ?? ""
        let type = object["error"]?.objectValue?["type"]?.stringValue ?? ""
        var cfCodes: [Int] = []
        if case .array(let errors)? = object["errors"] { cfCodes = errors.compactMap { $0.objectValue?["code"]?.intValue } }
        // Quota first: it comes as 429 or 402 and must not be mistaken for a short rate limit.
        if provider == .cloudflare, cfCodes.contains(3036) || cfCodes.contains(4006) || lower.contains("daily free allocation") {
            return .quotaExhausted(until: nextMidnightUTC(now), text)
        }
        if r.status == 402 { return .quotaExhausted(until: provider == .huggingface ? firstOfNextMonthUTC(now) : now.addingTimeInterval(86_400), text) }
        if code == "insufficient_quota" || type == "insufficient_quota" || lower.contains("insufficient_quota")
            || ["credit_balance_exhausted", "organization_spend_limit_exceeded", "project_spend_limit_exceeded", "organization_usage_limit_exceeded"].contains(code) {
            return .quotaExhausted(until: now.addingTimeInterval(86_400), text)
        }
        if r.status == 429 || r.status == 498 || cfCodes.contains(3040) {
            // Groq says "per day" when a daily window ran out: wait for its reset, not seconds.
            if lower.contains("per day") || lower.contains("(rpd)") || lower.contains("(tpd)") {
                let reset = [r.headers["x-ratelimit-reset-requests"], r.headers["x-ratelimit-reset-tokens"]]
                    .compactMap { $0.flatMap(goDuration) }.max()
                return .quotaExhausted(until: reset.map { now.addingTimeInterval($0) } ?? nextMidnightUTC(now), text)
            }
            return .rateLimited(retryAfter: r.retryAfter(now: now) ?? hintedWait(text), text)
        }
        switch r.status {
        case 401, 403, 404: return .configuration(r.status, text)
        case 400 where code == "context_length_exceeded": return .server(400, text)
        case 400, 413, 422: return .badRequest(text)
        case 408: return .timeout(text)
        default: return r.status >= 500 || r.status == 424 ? .server(r.status, text) : .malformed("HTTP \(r.status): \(text)")
        }
    }

    /// "Please try again in 5.289s" in a message.
    static func hintedWait(_ text: String) -> Double? {
        guard let r = text.firstRange(of: "try again in ") else { return nil }
        var word = String(text[r.upperBound...].prefix { !$0.isWhitespace })
        while word.hasSuffix(".") || word.hasSuffix(",") { word.removeLast() }
        // Clamped like Retry-After: the text is the provider's, and "1e400s" must not trap later.
        return goDuration(word).map(HTTPResponse.sane)
    }

    /// Go durations as Groq sends them: "940ms", "7.66s", "2m59.56s", "1h2m3s"; a bare number is seconds.
    static func goDuration(_ s: String) -> Double? {
        if let n = Double(s) { return n }
        var total = 0.0, number = ""
        var chars = Array(s)[...]
        while let c = chars.first {
            if c.isNumber || c == "." { number.append(c); chars = chars.dropFirst(); continue }
            guard let n = Double(number) else { return nil }
            number = ""
            if chars.starts(with: "ms") { total += n / 1000; chars = chars.dropFirst(2); continue }
            switch c {
            case "h": total += n * 3600
            case "m": total += n * 60
            case "s": total += n
            default: return nil
            }
            chars = chars.dropFirst()
        }
        return number.isEmpty ? total : nil
    }

    static func nextMidnightUTC(_ now: Date) -> Date {
        let day = 86_400.0
        return Date(timeIntervalSince1970: (now.timeIntervalSince1970 / day).rounded(.down) * day + day)
    }

    static func firstOfNextMonthUTC(_ now: Date) -> Date {
        var t = time_t(now.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&t, &parts)
        parts.tm_mon += 1
        parts.tm_mday = 1; parts.tm_hour = 0; parts.tm_min = 0; parts.tm_sec = 0
        return Date(timeIntervalSince1970: Double(timegm(&parts)))
    }
}
