// Channels (shared by deliver and ingest): what a person is told on Telegram and WhatsApp, in each platform's
// wire format (core.telegram.org/bots/api#sendmessage, #sendvideo; developers.facebook.com/docs/whatsapp/cloud-api/reference/messages), and how each platform's answer
// is read: sent, try later (429 and `retry_after`, 5xx, no connection) or failed.
import MathreelCore
import MathreelHTTP

/// Credentials and endpoints from the environment (the README and systemd/mathreel.env.example).
public struct ChannelSettings: Sendable {
    public var telegramToken: String?
    public var telegramBase: String
    public var whatsappToken: String?
    public var whatsappPhoneID: String?
    public var whatsappBase: String
    /// Per call; a platform that holds a request longer is treated as not answering.
    public var timeout: Double = 20

    public init(environment env: [String: String]) {
        func value(_ key: String) -> String? { env[key].flatMap { $0.isEmpty ? nil : $0 } }
        func base(_ key: String, _ fallback: String) -> String {
            var s = value(key) ?? fallback
            while s.hasSuffix("/") { s.removeLast() }
            return s
        }
        telegramToken = value("TELEGRAM_BOT_TOKEN")
        telegramBase = base("TELEGRAM_API_BASE", "https://api.telegram.org")
        whatsappToken = value("WHATSAPP_TOKEN")
        whatsappPhoneID = value("WHATSAPP_PHONE_NUMBER_ID")
        whatsappBase = base("WHATSAPP_API_BASE", "https://graph.facebook.com/v25.0")
    }
}

/// How one call to a platform ended.
public enum SendResult: Sendable, Equatable {
    case sent
    /// Worth trying again; `after` is the platform's own wait when it gave one.
    case later(after: Double?, String)
    case failed(String)
}

/// The message itself, before it takes a platform's shape.
public struct Message: Sendable {
    public var text: String
    /// Telegram's inline button: a link to open, or a callback to send back.
    public var button: (title: String, url: String?, callback: String?)?
    public var replyTo: String?
    public init(text: String, button: (title: String, url: String?, callback: String?)? = nil, replyTo: String? = nil) {
        self.text = text; self.button = button; self.replyTo = replyTo
    }
}

public struct Channels: Sendable {
    public let settings: ChannelSettings
    public let transport: any HTTPTransport

    public init(settings: ChannelSettings, transport: any HTTPTransport = HTTPClient()) {
        self.settings = settings; self.transport = transport
    }

    /// Why a channel cannot send, or nil when it can.
    public func missingSettings(_ channel: Channel) -> String? {
        switch channel {
        case .telegram: settings.telegramToken == nil ? "TELEGRAM_BOT_TOKEN is not set" : nil
        case .whatsapp:
            settings.whatsappToken == nil ? "WHATSAPP_TOKEN is not set"
                : settings.whatsappPhoneID == nil ? "WHATSAPP_PHONE_NUMBER_ID is not set" : nil
        case .web, .api, .file: nil
        }
    }

    public func send(_ message: Message, on channel: Channel, to chat: String) async -> SendResult {
        switch channel {
        case .telegram: await telegram("sendMessage", telegramJSON(message, chat: chat))
        case .whatsapp: await whatsapp("messages", whatsappText(message.text, to: chat))
        case .web, .api, .file: .sent
        }
    }

    // MARK: Telegram

    public func telegramJSON(_ m: Message, chat: String) -> JSONValue {
        var o: JSONObject = ["chat_id": Channels.chatID(chat), "text": .string(m.text.clipped(to: 4000)),
                             "link_preview_options": .object(["is_disabled": .bool(true)])]
        if let reply = m.replyTo, let id = Int64(reply) {
            o["reply_parameters"] = .object(["message_id": .int(id), "allow_sending_without_reply": .bool(true)])
        }
        if let b = m.button {
            var button: JSONObject = ["text": .string(b.title)]
            if let url = b.url { button["url"] = .string(url) } else if let data = b.callback { button["callback_data"] = .string(data) }
            o["reply_markup"] = .object(["inline_keyboard": .array([.array([.object(button)])])])
        }
        return .object(o)
    }

    /// Telegram's ids are 52-bit integers; a `@channel` name stays a string.
    public static func chatID(_ chat: String) -> JSONValue { Int64(chat).map(JSONValue.int) ?? .string(chat) }

    public func telegram(_ method: String, _ body: JSONValue) async -> SendResult {
        guard let token = settings.telegramToken else { return .failed("TELEGRAM_BOT_TOKEN is not set") }
        let request = HTTPRequest.json("\(settings.telegramBase)/bot\(token)/\(method)", body, timeout: settings.timeout)
        return await telegram(request)
    }

    public func telegram(_ request: HTTPRequest) async -> SendResult {
        let response: HTTPResponse
        do { response = try await transport.send(request) } catch { return .later(after: nil, "Telegram did not answer: \(Channels.redact(error, settings.telegramToken))") }
        let o = response.json?.objectValue
        if response.status == 200, o?["ok"] == .bool(true) { return .sent }
        let description = o?["description"]?.stringValue ?? "HTTP \(response.status)"
        if response.status == 429 {
            let wait = o?["parameters"]?.objectValue?["retry_after"]?.doubleValue.map(HTTPResponse.sane) ?? response.retryAfter()
            return .later(after: wait, "Telegram is limiting the rate: \(description)")
        }
        if response.status >= 500 { return .later(after: response.retryAfter(), "Telegram failed: \(description)") }
        return .failed("Telegram refused the message: \(description)")
    }

    // MARK: WhatsApp

    public func whatsappText(_ text: String, to chat: String) -> JSONValue {
        .object(["messaging_product": .string("whatsapp"), "recipient_type": .string("individual"), "to": .string(Channels.phone(chat)),
                 "type": .string("text"), "text": .object(["preview_url": .bool(false), "body": .string(text.clipped(to: 4000))])])
    }

    /// With the `+`: without it, WhatsApp prepends the business's own country code.
    public static func phone(_ chat: String) -> String { chat.hasPrefix("+") ? chat : "+" + chat }

    public func whatsapp(_ edge: String, _ body: JSONValue) async -> SendResult {
        guard let token = settings.whatsappToken, let phoneID = settings.whatsappPhoneID else {
            return .failed(missingSettings(.whatsapp) ?? "WhatsApp is not configured")
        }
        let request = HTTPRequest.json("\(settings.whatsappBase)/\(phoneID)/\(edge)", body,
                                       headers: [("Authorization", "Bearer \(token)")], timeout: settings.timeout)
        return await whatsapp(request).result
    }

    /// The result, and the answer's JSON (a media id comes back in it).
    public func whatsapp(_ request: HTTPRequest) async -> (result: SendResult, json: JSONObject?) {
        let response: HTTPResponse
        do { response = try await transport.send(request) } catch {
            return (.later(after: nil, "WhatsApp did not answer: \(Channels.redact(error, settings.whatsappToken))"), nil)
        }
        let o = response.json?.objectValue
        if response.status == 200, o?["error"] == nil { return (.sent, o) }
        let error = o?["error"]?.objectValue
        let code = error?["code"]?.intValue
        let text = error?["message"]?.stringValue ?? "HTTP \(response.status)"
        let said = text + (code.map { " (code \($0))" } ?? "")
        // Meta's throttling comes as 400 or 429 depending on the code: the code decides.
        if code.map(Channels.whatsappRetryable.contains) == true || response.status == 429 || response.status >= 500 {
            return (.later(after: response.retryAfter(), "WhatsApp asked to wait: \(said)"), o)
        }
        return (.failed("WhatsApp refused the message: \(said)"), o)
    }

    /// Rate limits and temporary errors (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
    public static let whatsappRetryable: Set<Int> = [1, 2, 4, 80007, 130429, 131000, 131016, 131056]

    // MARK: Words

    /// A transport error without the bot token that Telegram's URLs carry.
    public static func redact(_ error: any Error, _ secret: String?) -> String {
        let text = "\(error)"
        guard let secret, !secret.isEmpty else { return text }
        return text.replacing(secret, with: "<token>")
    }
}
