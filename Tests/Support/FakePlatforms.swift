// Fake Telegram Bot API and WhatsApp Cloud API servers on loopback, answering in
// each platform's wire format (core.telegram.org/bots/api; developers.facebook.com/docs/whatsapp/cloud-api, its webhooks and messages), with faults a
// test can queue: rate limits with their waits, server errors, refusals.
import Foundation
import MathreelCore

/// One form part of a multipart/form-data upload.
public struct FormPart: Sendable {
    public let name: String
    public let filename: String?
    public let contentType: String?
    public let body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Parses a multipart/form-data body (RFC 7578); nil when it is not one.
public func parseMultipart(_ body: [UInt8], contentType: String?) -> [FormPart]? {
    guard let ct = contentType, ct.lowercased().hasPrefix("multipart/form-data"),
          let range = ct.range(of: "boundary=") else { return nil }
    let boundary = Array(("--" + ct[range.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))).utf8)
    var parts: [FormPart] = []
    var starts: [Int] = []
    var i = 0
    while i + boundary.count <= body.count {
        if body[i] == boundary[0], Array(body[i..<(i + boundary.count)]) == boundary { starts.append(i); i += boundary.count } else { i += 1 }
    }
    for (k, s) in starts.enumerated() where k + 1 < starts.count {
        // From after "--boundary\r\n" to before "\r\n--boundary".
        let from = s + boundary.count + 2, to = starts[k + 1] - 2
        guard from <= to else { continue }
        let chunk = Array(body[from..<to])
        guard let split = (0..<max(0, chunk.count - 3)).first(where: { chunk[$0] == 13 && chunk[$0 + 1] == 10 && chunk[$0 + 2] == 13 && chunk[$0 + 3] == 10 }) else { continue }
        let head = String(decoding: chunk[..<split], as: UTF8.self)
        var name = "", filename: String?, type: String?
        for line in head.components(separatedBy: "\r\n") {
            let lower = line.lowercased()
            if lower.hasPrefix("content-disposition:") {
                for piece in line.components(separatedBy: ";").dropFirst() {
                    let kv = piece.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
                    guard kv.count == 2 else { continue }
                    let v = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    if kv[0] == "name" { name = v } else if kv[0] == "filename" { filename = v }
                }
            } else if lower.hasPrefix("content-type:") {
                type = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
            }
        }
        parts.append(FormPart(name: name, filename: filename, contentType: type, body: Array(chunk[(split + 4)...])))
    }
    return parts
}

/// A fault the next matching call answers with.
public enum PlatformFault: Sendable {
    /// 429 with the platform's own wait (Telegram: parameters.retry_after; WhatsApp: code 130429).
    case rateLimited(retryAfter: Int)
    case serverError
    /// A refusal that must not be retried (Telegram 403 blocked; WhatsApp code 131047).
    case refused
}

/// What a fake accepted, in order.
public struct PlatformCall: Sendable {
    public let at: Date
    public let method: String
    public let json: JSONObject?
    public let parts: [FormPart]?
    public let headers: [String: String]
    /// Whether the fake answered it as accepted.
    public let accepted: Bool
}

/// Shared bookkeeping of both fakes.
public final class PlatformLog: @unchecked Sendable {
    private let lock = NSLock()
    private var faults: [PlatformFault] = []
    private var seen: [PlatformCall] = []

    public func fail(_ fault: PlatformFault, times: Int = 1) {
        lock.lock(); faults += Array(repeating: fault, count: times); lock.unlock()
    }
    func nextFault() -> PlatformFault? {
        lock.lock(); defer { lock.unlock() }
        return faults.isEmpty ? nil : faults.removeFirst()
    }
    func record(_ call: PlatformCall) { lock.lock(); seen.append(call); lock.unlock() }
    public var calls: [PlatformCall] { lock.lock(); defer { lock.unlock() }; return seen }
    public var accepted: [PlatformCall] { calls.filter(\.accepted) }
}

public final class FakeTelegram: @unchecked Sendable {
    public let token = "123456:TEST-token_abc"
    public let log = PlatformLog()
    private var server: FakeHTTPServer!
    private var nextMessageID = 100
    private let lock = NSLock()

    public init() throws {
        // Weak: a daemon's request may still be served after the test let go of the fake.
        server = try FakeHTTPServer { [weak self] request in self?.answer(request) ?? .json(503, #"{"ok":false,"error_code":503,"description":"gone"}"#) }
    }
    public var baseURL: String { server.baseURL }
    public func stop() { server.stop() }

    func answer(_ r: FakeRequest) -> FakeResponse {
        let prefix = "/bot\(token)/"
        guard r.path.hasPrefix(prefix) else {
            return .json(401, #"{"ok":false,"error_code":401,"description":"Unauthorized"}"#)
        }
        let method = String(r.path.dropFirst(prefix.count)).lowercased()
        let parts = parseMultipart(r.body, contentType: r.headers["content-type"])
        let json = r.json?.objectValue
        func call(_ ok: Bool) { log.record(PlatformCall(at: Date(), method: method, json: json, parts: parts, headers: r.headers, accepted: ok)) }
        if let fault = log.nextFault() {
            call(false)
            switch fault {
            case .rateLimited(let n):
                return .json(429, #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after \#(n)","parameters":{"retry_after":\#(n)}}"#)
            case .serverError: return .json(502, #"{"ok":false,"error_code":502,"description":"Bad Gateway"}"#)
            case .refused: return .json(403, #"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#)
            }
        }
        lock.lock(); nextMessageID += 1; let messageID = nextMessageID; lock.unlock()
        switch method {
        case "sendmessage":
            guard let o = json, let text = o["text"]?.stringValue, !text.isEmpty else {
                call(false); return .json(400, #"{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}"#)
            }
            guard text.utf16.count <= 4096 else {
                call(false); return .json(400, #"{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}"#)
            }
            guard let chat = o["chat_id"] else {
                call(false); return .json(400, #"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#)
            }
            call(true)
            return .json(200, .object(["ok": .bool(true), "result": .object([
                "message_id": .int(Int64(messageID)), "date": .int(Int64(Date().timeIntervalSince1970)),
                "chat": .object(["id": chat, "type": .string("private")]), "text": .string(text)])]))
        case "sendvideo":
            guard let parts, let video = parts.first(where: { $0.name == "video" }), parts.contains(where: { $0.name == "chat_id" }) else {
                call(false); return .json(400, #"{"ok":false,"error_code":400,"description":"Bad Request: there is no video in the request"}"#)
            }
            guard video.body.count <= 50 << 20 else {
                call(false); return .json(413, #"{"ok":false,"error_code":413,"description":"Request Entity Too Large"}"#)
            }
            call(true)
            return .json(200, .object(["ok": .bool(true), "result": .object([
                "message_id": .int(Int64(messageID)), "date": .int(Int64(Date().timeIntervalSince1970)),
                "video": .object(["file_id": .string("BAACAgIAAxkBAAIB\(messageID)"), "file_size": .int(Int64(video.body.count)),
                                  "mime_type": .string(video.contentType ?? "")])])]))
        case "sendchataction", "answercallbackquery":
            call(true)
            return .json(200, #"{"ok":true,"result":true}"#)
        default:
            call(false)
            return .json(404, #"{"ok":false,"error_code":404,"description":"Not Found"}"#)
        }
    }
}

public final class FakeWhatsApp: @unchecked Sendable {
    public let token = "EAAJBtest"
    public let phoneNumberID = "106540352242922"
    public let version = "v25.0"
    public let log = PlatformLog()
    /// The HTTP status Meta uses for throttling varies (400 or 429); tests pick one.
    public var throttleStatus = 400
    private var server: FakeHTTPServer!
    private var counter = 0
    private let lock = NSLock()

    public init() throws {
        // Weak: a daemon's request may still be served after the test let go of the fake.
        server = try FakeHTTPServer { [weak self] request in self?.answer(request) ?? .json(503, #"{"ok":false,"error_code":503,"description":"gone"}"#) }
    }
    /// The Graph API base with its version, as WHATSAPP_API_BASE.
    public var baseURL: String { server.baseURL + "/" + version }
    public func stop() { server.stop() }

    static func error(_ status: Int, code: Int, _ message: String) -> FakeResponse {
        .json(status, .object(["error": .object(["message": .string(message), "type": .string("OAuthException"), "code": .int(Int64(code)),
                                                  "error_data": .object(["messaging_product": .string("whatsapp"), "details": .string(message)]),
                                                  "fbtrace_id": .string("Az8or2yhqkZfEZ")])]))
    }

    func answer(_ r: FakeRequest) -> FakeResponse {
        let base = "/\(version)/\(phoneNumberID)/"
        let parts = parseMultipart(r.body, contentType: r.headers["content-type"])
        let json = r.json?.objectValue
        let edge = r.path.hasPrefix(base) ? String(r.path.dropFirst(base.count)) : r.path
        func call(_ ok: Bool) { log.record(PlatformCall(at: Date(), method: edge, json: json, parts: parts, headers: r.headers, accepted: ok)) }
        guard r.headers["authorization"] == "Bearer \(token)" else {
            call(false); return FakeWhatsApp.error(401, code: 190, "Error validating access token")
        }
        if let fault = log.nextFault() {
            call(false)
            switch fault {
            case .rateLimited(let n):
                var response = FakeWhatsApp.error(throttleStatus, code: 130429, "(#130429) Rate limit hit")
                response.headers.append(("Retry-After", "\(n)"))
                return response
            case .serverError: return FakeWhatsApp.error(500, code: 131000, "Something went wrong")
            case .refused: return FakeWhatsApp.error(400, code: 131047, "Re-engagement message")
            }
        }
        lock.lock(); counter += 1; let n = counter; lock.unlock()
        switch edge {
        case "messages":
            guard let o = json, o["messaging_product"]?.stringValue == "whatsapp", let to = o["to"]?.stringValue,
                  let type = o["type"]?.stringValue, o[type] != nil else {
                call(false); return FakeWhatsApp.error(400, code: 100, "(#100) Invalid parameter")
            }
            if type == "text", (o["text"]?.objectValue?["body"]?.stringValue ?? "").count > 4096 {
                call(false); return FakeWhatsApp.error(400, code: 100, "(#100) Param text['body'] must be at most 4096 characters long.")
            }
            call(true)
            return .json(200, .object(["messaging_product": .string("whatsapp"),
                                       "contacts": .array([.object(["input": .string(to), "wa_id": .string(String(to.drop { $0 == "+" }))])]),
                                       "messages": .array([.object(["id": .string("wamid.TEST\(n)")])])]))
        case "media":
            guard let parts, parts.first(where: { $0.name == "messaging_product" })?.text == "whatsapp",
                  let file = parts.first(where: { $0.name == "file" }) else {
                call(false); return FakeWhatsApp.error(400, code: 100, "(#100) The parameter file is required")
            }
            guard file.body.count <= 16 << 20, (file.contentType ?? "") == "video/mp4" || (file.contentType ?? "") == "video/3gpp" else {
                call(false); return FakeWhatsApp.error(400, code: 100, "(#100) Param file must be a video/mp4 of at most 16 MB")
            }
            call(true)
            return .json(200, .object(["id": .string("1166846181\(n)")]))
        default:
            call(false)
            return FakeWhatsApp.error(400, code: 100, "Unsupported post request")
        }
    }
}
