// InlineSender: MATHREEL_DELIVER_INLINE=true sends the file itself instead of a
// link: Telegram's `sendVideo` upload (up to 50 MB), WhatsApp's media upload and
// then a video message by the media id (up to 16 MB, MP4 only). Never the link
// as a media URL: the platform's fetch would use it up.
import MathreelChat
import MathreelCore
import MathreelHTTP
import MathreelSpool
import MathreelSystem

/// A multipart/form-data body (RFC 7578), built in memory: videos here are small.
struct Multipart {
    let boundary: String
    private(set) var body: [UInt8] = []

    init() {
        var rng = SystemRandomNumberGenerator()
        boundary = "mathreel-" + (0..<4).map { _ in String(rng.next() as UInt32, radix: 16) }.joined()
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func field(_ name: String, _ value: String) {
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    mutating func file(_ name: String, filename: String, type: String, _ bytes: [UInt8]) {
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(type)\r\n\r\n".utf8)
        body += bytes
        body += Array("\r\n".utf8)
    }

    func finished() -> [UInt8] { body + Array("--\(boundary)--\r\n".utf8) }
}

struct InlineSender {
    let channels: Channels
    static let telegramLimit: Int64 = 50 << 20
    static let whatsappLimit: Int64 = 16 << 20

    /// nil when the file cannot go inline on this channel (the link goes instead).
    func send(_ job: Job, file path: String, chat: String) async -> SendResult? {
        guard job.options.format == .mp4, let size = PlainFile.regularSize(path) else { return nil }
        let caption = (job.problem ?? "Your animation").clipped(to: 900)
        switch job.origin.channel {
        case .telegram:
            guard size <= InlineSender.telegramLimit, let token = channels.settings.telegramToken,
                  let bytes = try? PlainFile.read(path) else { return nil }
            var form = Multipart()
            form.field("chat_id", chat)
            form.field("supports_streaming", "true")
            form.field("caption", caption)
            if let reply = job.origin.messageID, Int64(reply) != nil {
                form.field("reply_parameters", #"{"message_id":\#(reply),"allow_sending_without_reply":true}"#)
            }
            form.file("video", filename: "solution.mp4", type: "video/mp4", bytes)
            return await channels.telegram(upload("\(channels.settings.telegramBase)/bot\(token)/sendVideo", form, headers: []))
        case .whatsapp:
            guard size <= InlineSender.whatsappLimit, let token = channels.settings.whatsappToken,
                  let phoneID = channels.settings.whatsappPhoneID, let bytes = try? PlainFile.read(path) else { return nil }
            var form = Multipart()
            form.field("messaging_product", "whatsapp")
            form.field("type", "video/mp4")
            form.file("file", filename: "solution.mp4", type: "video/mp4", bytes)
            let auth = [("Authorization", "Bearer \(token)")]
            let uploaded = await channels.whatsapp(upload("\(channels.settings.whatsappBase)/\(phoneID)/media", form, headers: auth))
            guard uploaded.result == .sent else { return uploaded.result }
            guard let id = uploaded.json?["id"]?.stringValue else { return .failed("WhatsApp's upload answer carried no media id") }
            return await channels.whatsapp("messages", .object([
                "messaging_product": .string("whatsapp"), "recipient_type": .string("individual"), "to": .string(Channels.phone(chat)),
                "type": .string("video"), "video": .object(["id": .string(id), "caption": .string(caption)]),
            ]))
        case .web, .api, .file:
            return nil
        }
    }

    func upload(_ url: String, _ form: Multipart, headers: [(String, String)]) -> HTTPRequest {
        HTTPRequest(method: "POST", url: url, headers: headers + [("Content-Type", form.contentType)], body: form.finished(),
                    timeout: 120)
    }
}
