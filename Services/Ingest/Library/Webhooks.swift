// Webhooks: Telegram and WhatsApp deliveries (core.telegram.org/bots/api#setwebhook; developers.facebook.com/docs/graph-api/webhooks/getting-started for the handshake and X-Hub-Signature-256).
// Each is authenticated first (Telegram's secret header, WhatsApp's HMAC over the
// raw body, both compared in constant time), answered 200 once any job it makes
// is durable, and never answered with an error that would make the platform
// resend a message it cannot use.
import Logging
import MathreelCore
import MathreelSessions

struct TelegramWebhook: Sendable {
    let secret: String?
    let desk: ChatDesk
    let sessions: SessionStore
    /// The bot's @name (TELEGRAM_BOT_USERNAME), for group messages addressed to it.
    let botName: String?
    let logger: Logger

    func authentic(_ header: String?) -> Bool {
        guard let secret, !secret.isEmpty, let header else { return false }
        return SHA256.constantTimeEqual(Array(header.utf8), Array(secret.utf8))
    }

    /// Handles one update; throws `Refusal` only for a body that is not an update.
    func handle(_ body: [UInt8]) async throws(Refusal) {
        let update: JSONObject
        do {
            guard case .object(let o) = try JSONValue.parse(body) else {
                throw Refusal(status: 400, code: "bad_request", message: "A Telegram update is a JSON object.")
            }
            update = o
        } catch let r as Refusal { throw r } catch { throw Refusal(status: 400, code: "bad_request", message: "The body is not JSON: \(error)") }
        guard case .int(let updateID)? = update["update_id"] else {
            throw Refusal(status: 400, code: "bad_request", message: "`update_id` is missing or not a whole number.")
        }
        let key = "telegram:update:\(updateID)"
        // Updates that make no job are remembered here; those that do, by their job's id.
        if (try? sessions.taken(key)) != nil { return }
        if let message = update["message"]?.objectValue {
            await handle(message: message, key: key)
        } else if let edited = update["edited_message"]?.objectValue {
            try? sessions.take(key, jobID: nil)
            if let chat = edited["chat"]?.objectValue, chat["type"]?.stringValue == "private", case .int(let chatID)? = chat["id"] {
                desk.replies.send(.init(text: "I saw the edit, but I only read new messages: send the corrected problem as a new message.",
                                        replyTo: edited["message_id"]?.intValue.map(String.init)), on: .telegram, to: String(chatID))
            }
        } else if let query = update["callback_query"]?.objectValue {
            try? sessions.take(key, jobID: nil)
            await handle(callback: query)
        } else {
            // Channel posts, member updates and the rest: nothing to do.
            try? sessions.take(key, jobID: nil)
        }
    }

    func handle(message m: JSONObject, key: String) async {
        guard let chat = m["chat"]?.objectValue, case .int(let chatID)? = chat["id"], case .int(let messageID)? = m["message_id"] else { return }
        let type = chat["type"]?.stringValue ?? "private"
        let person = Person(channel: .telegram, id: String(chatID))
        let reply = String(messageID)
        guard var text = m["text"]?.stringValue else {
            try? sessions.take(key, jobID: nil)
            if type == "private" {
                let what = m["photo"] != nil ? "a photo" : m["sticker"] != nil ? "a sticker" : m["voice"] != nil ? "a voice message" : "that"
                desk.replies.send(.init(text: "I can't read \(what). Type the problem as text, for example: Solve x^2 - 5x + 6 = 0", replyTo: reply),
                                  on: .telegram, to: String(chatID))
            }
            return
        }
        if type != "private" {
            guard let addressed = addressedText(text, entities: m["entities"]) else {
                try? sessions.take(key, jobID: nil)
                return
            }
            text = addressed
        }
        // Answers that made no job are remembered by key too (a job's key is taken with it).
        if await !desk.handle(ChatMessage(person: person, chat: String(chatID), messageID: reply, text: text, dedupeKey: key), channel: .telegram) {
            try? sessions.take(key, jobID: nil)
        }
    }

    /// In a group, the text of a message meant for the bot: a command, or one that
    /// mentions it; nil otherwise. Entity offsets are UTF-16 units.
    func addressedText(_ text: String, entities: JSONValue?) -> String? {
        guard case .array(let list)? = entities else { return nil }
        let units = Array(text.utf16)
        for e in list {
            guard let o = e.objectValue, let type = o["type"]?.stringValue, let offset = o["offset"]?.intValue, let length = o["length"]?.intValue,
                  // Compared without adding: any Int may arrive, and offset + length could trap.
                  offset >= 0, length > 0, offset <= units.count, length <= units.count - offset else { continue }
            let piece = String(decoding: units[offset..<(offset + length)], as: UTF16.self)
            let rest = String(decoding: units[(offset + length)...], as: UTF16.self).trimmed()
            if type == "bot_command" {
                if let at = piece.firstIndex(of: "@") {
                    guard let botName, piece[piece.index(after: at)...].lowercased() == botName.lowercased() else { continue }
                    return String(piece[..<at]) + " " + rest
                }
                return text
            }
            if type == "mention", let botName, piece.lowercased() == "@" + botName.lowercased() {
                return (String(decoding: units[..<offset], as: UTF16.self) + " " + rest).trimmed()
            }
        }
        return nil
    }

    /// The "🔁 Try again" button under a failure notice: `retry:<job id>`.
    func handle(callback q: JSONObject) async {
        guard let data = q["data"]?.stringValue, data.hasPrefix("retry:"),
              let message = q["message"]?.objectValue, let chat = message["chat"]?.objectValue, case .int(let chatID)? = chat["id"] else { return }
        let id = String(data.dropFirst(6))
        let person = Person(channel: .telegram, id: String(chatID))
        guard (try? sessions.owns(person, jobID: id)) == true else { return }
        let text = desk.requeue(person, id)
        desk.replies.send(.init(text: text), on: .telegram, to: String(chatID))
    }
}

struct WhatsAppWebhook: Sendable {
    let appSecret: String?
    let verifyToken: String?
    let desk: ChatDesk
    let sessions: SessionStore
    let logger: Logger

    /// Meta's handshake: the challenge back as plain text, when the token matches.
    func verify(mode: String?, token: String?, challenge: String?) -> String? {
        guard mode == "subscribe", let verifyToken, !verifyToken.isEmpty, let token, let challenge,
              SHA256.constantTimeEqual(Array(token.utf8), Array(verifyToken.utf8)) else { return nil }
        return challenge
    }

    /// `X-Hub-Signature-256: sha256=<hex>` over the exact bytes received.
    func authentic(_ header: String?, body: [UInt8]) -> Bool {
        guard let appSecret, !appSecret.isEmpty, let header, header.hasPrefix("sha256=") else { return false }
        let expected = SHA256.hexString(SHA256.hmac(key: Array(appSecret.utf8), body))
        return SHA256.constantTimeEqual(Array(header.dropFirst(7).lowercased().utf8), Array(expected.utf8))
    }

    func handle(_ body: [UInt8]) async throws(Refusal) {
        guard case .object(let o)? = try? JSONValue.parse(body) else {
            throw Refusal(status: 400, code: "bad_request", message: "The body is not a JSON object.")
        }
        guard case .array(let entries)? = o["entry"] else { return }
        for entry in entries {
            guard case .array(let changes)? = entry.objectValue?["changes"] else { continue }
            for change in changes {
                guard let value = change.objectValue?["value"]?.objectValue, case .array(let messages)? = value["messages"] else { continue }
                // Statuses and errors of what we sent carry no request: acknowledged, nothing else.
                for message in messages { await handle(message: message) }
            }
        }
    }

    func handle(message v: JSONValue) async {
        guard let m = v.objectValue, let from = m["from"]?.stringValue, let id = m["id"]?.stringValue else { return }
        let key = "whatsapp:message:\(id)"
        if (try? sessions.taken(key)) != nil { return }
        let person = Person(channel: .whatsapp, id: from)
        guard m["type"]?.stringValue == "text", let text = m["text"]?.objectValue?["body"]?.stringValue else {
            try? sessions.take(key, jobID: nil)
            if m["type"]?.stringValue != "reaction" && m["type"]?.stringValue != "system" {
                desk.replies.send(.init(text: "I can only read text. Type the problem, for example: Solve x^2 - 5x + 6 = 0"), on: .whatsapp, to: from)
            }
            return
        }
        if await !desk.handle(ChatMessage(person: person, chat: from, messageID: id, text: text, dedupeKey: key), channel: .whatsapp) {
            try? sessions.take(key, jobID: nil)
        }
    }
}
