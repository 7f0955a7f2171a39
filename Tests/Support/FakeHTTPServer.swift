// A real HTTP/1.1 server on loopback for the fakes of what this machine cannot
// reach (AI providers, chat platforms). One thread per connection, one request
// per connection; the handler decides status, headers, body, a delay before
// answering, and whether to cut the body short.
import Foundation
import MathreelCore
#if canImport(Glibc)
import Glibc
#endif

public struct FakeRequest: Sendable {
    public let method: String
    public let path: String
    /// Header names lowercased.
    public let headers: [String: String]
    public let body: [UInt8]
    public var json: JSONValue? { try? JSONValue.parse(body) }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

public struct FakeResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Seconds to wait before answering (a slow or hung server).
    public var delay: Double = 0
    /// Send only this many bytes of the body, then close (a cut-off reply).
    public var cutAfter: Int?

    public init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = [], delay: Double = 0, cutAfter: Int? = nil) {
        self.status = status; self.headers = headers; self.body = body; self.delay = delay; self.cutAfter = cutAfter
    }

    public static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> FakeResponse {
        FakeResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: value.serialized(pretty: false))
    }

    public static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> FakeResponse {
        FakeResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(text.utf8))
    }
}

public final class FakeHTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (FakeRequest) -> FakeResponse
    public let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var handler: Handler
    private var seen: [FakeRequest] = []
    private var stopped = false

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public init(_ handler: @escaping Handler) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 64) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        listener = fd
        Thread.detachNewThread { [weak self] in
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { if errno == EINTR { continue }; return }
                guard let self else { close(c); return }
                Thread.detachNewThread { self.serve(c) }
            }
        }
    }

    deinit { stop() }

    public func stop() {
        lock.lock(); defer { lock.unlock() }
        if stopped { return }
        stopped = true
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Replaces the handler (a test changes what the fake does mid-way).
    public func respond(_ handler: @escaping Handler) { lock.lock(); self.handler = handler; lock.unlock() }

    /// Every request so far, in order.
    public var requests: [FakeRequest] { lock.lock(); defer { lock.unlock() }; return seen }

    private func serve(_ c: Int32) {
        defer { close(c) }
        guard let request = read(c) else { return }
        lock.lock(); seen.append(request); let handler = self.handler; lock.unlock()
        let r = handler(request)
        if r.delay > 0 { Thread.sleep(forTimeInterval: r.delay) }
        let reason = [200: "OK", 400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
                      429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"][r.status] ?? "Status"
        var head = "HTTP/1.1 \(r.status) \(reason)\r\n"
        for (k, v) in r.headers { head += "\(k): \(v)\r\n" }
        head += "Content-Length: \(r.body.count)\r\nConnection: close\r\n\r\n"
        let body = r.cutAfter.map { Array(r.body.prefix($0)) } ?? r.body
        writeAll(c, Array(head.utf8) + body)
    }

    private func writeAll(_ c: Int32, _ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(c, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    private func read(_ c: Int32) -> FakeRequest? {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        var headEnd: Int?
        while headEnd == nil {
            let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { return nil }
            data += buf.prefix(n)
            if let r = data.firstRange(of: Array("\r\n\r\n".utf8)) { headEnd = r.upperBound }
        }
        let head = String(decoding: data[..<headEnd!], as: UTF8.self).split(separator: "\r\n")
        let first = head.first?.split(separator: " ") ?? []
        guard first.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var body = Array(data[headEnd!...])
        while body.count < length {
            let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { break }
            body += buf.prefix(n)
        }
        return FakeRequest(method: String(first[0]), path: String(first[1]), headers: headers, body: Array(body.prefix(length)))
    }
}
