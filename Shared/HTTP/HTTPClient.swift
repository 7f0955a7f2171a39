// HTTPClient: the one outbound HTTP layer (providers now, chat platforms later).
// libcurl does the wire work on a blocking thread; this file owns the request and
// response types, the failure kinds a caller classifies on, and Retry-After.
import CCurl
import MathreelCore
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Seconds for the whole exchange, and for the connection alone.
    public var timeout: Double
    public var connectTimeout: Double
    /// A longer body is cut there (and marked truncated).
    public var maxBody: Int

    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8] = [],
                timeout: Double = 60, connectTimeout: Double = 5, maxBody: Int = 8 << 20) {
        self.method = method; self.url = url; self.headers = headers; self.body = body
        self.timeout = timeout; self.connectTimeout = connectTimeout; self.maxBody = maxBody
    }

    /// A JSON POST.
    public static func json(_ url: String, _ body: JSONValue, headers: [(String, String)] = [], timeout: Double = 60) -> HTTPRequest {
        HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")] + headers,
                    body: body.serialized(pretty: false), timeout: timeout)
    }
}

public struct HTTPResponse: Sendable {
    public let status: Int
    /// Header names lowercased; a repeated header keeps its last value.
    public let headers: [String: String]
    public let body: [UInt8]
    public let truncated: Bool

    public init(status: Int, headers: [String: String], body: [UInt8], truncated: Bool = false) {
        self.status = status; self.headers = headers; self.body = body; self.truncated = truncated
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
    public var json: JSONValue? { try? JSONValue.parse(body) }

    /// `Retry-After` in seconds from `now`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
    /// At most a week, and never NaN or infinite: a server's "1e400" or "nan" must not reach
    /// arithmetic that converts it to a whole number (a trap).
    public func retryAfter(now: Date = Date()) -> Double? {
        guard let raw = headers["retry-after"]?.trimmed(), !raw.isEmpty else { return nil }
        if let s = Double(raw) { return HTTPResponse.sane(s) }
        return HTTPResponse.httpDate(raw).map { HTTPResponse.sane($0 - now.timeIntervalSince1970) }
    }

    /// A wait from outside, clamped to 0 ... 7 days (NaN reads as 0).
    public static func sane(_ seconds: Double) -> Double {
        seconds.isNaN ? 0 : min(max(0, seconds), 7 * 86_400)
    }

    /// "Wed, 21 Oct 2015 07:28:00 GMT" as seconds since the epoch.
    static func httpDate(_ s: String) -> Double? {
        let parts = s.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 6, parts[5] == "GMT", let day = Int32(parts[1]), let month = months.firstIndex(of: String(parts[2])),
              let year = Int32(parts[3]) else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int32($0) }
        guard clock.count == 3 else { return nil }
        var t = tm()
        t.tm_year = year - 1900; t.tm_mon = Int32(month); t.tm_mday = day
        t.tm_hour = clock[0]; t.tm_min = clock[1]; t.tm_sec = clock[2]
        return Double(timegm(&t))
    }
}

/// No response came: the caller fails over.
public enum HTTPFailure: Error, CustomStringConvertible {
    case timeout(String)
    case connection(String)

    public var description: String {
        switch self {
        case .timeout(let s): "timed out: \(s)"
        case .connection(let s): "connection failed: \(s)"
        }
    }
}

/// Sends requests; tests and production use the same one (fakes are real servers).
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

public struct HTTPClient: HTTPTransport {
    public init() {}

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await BlockingIO.run { try HTTPClient.perform(request) }
    }

    static func perform(_ request: HTTPRequest) throws -> HTTPResponse {
        let lines = request.headers.map { "\($0.0): \($0.1)" }
        var out = mr_http_response()
        defer { mr_http_response_free(&out) }
        let cStrings = lines.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        let pointers = cStrings.map { UnsafePointer($0) }
        let rc = pointers.withUnsafeBufferPointer { hp in
            request.body.withUnsafeBufferPointer { bp in
                mr_http_perform(request.method, request.url, hp.baseAddress, Int32(hp.count), bp.baseAddress, bp.count,
                                Int(request.connectTimeout * 1000), Int(request.timeout * 1000), request.maxBody, &out)
            }
        }
        let error = withUnsafeBytes(of: &out.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if rc != 0 {
            if out.timed_out != 0 { throw HTTPFailure.timeout("\(request.url): \(error)") }
            throw HTTPFailure.connection("\(request.url): \(error)")
        }
        let body = out.body_len > 0 ? Array(UnsafeBufferPointer(start: out.body, count: out.body_len)) : []
        var headers: [String: String] = [:]
        if out.headers_len > 0 {
            let raw = String(decoding: UnsafeRawBufferPointer(start: out.headers, count: out.headers_len), as: UTF8.self)
            for line in raw.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" }).dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmed()
            }
        }
        return HTTPResponse(status: Int(out.status), headers: headers, body: body, truncated: out.truncated != 0)
    }
}
