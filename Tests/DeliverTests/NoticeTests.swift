// Notices at the local fake Telegram and WhatsApp servers, in their wire formats:
// the link when a video is ready (after waiting out a 429), one failure notice per
// failed or expired job even across restarts, and the file itself when inline.
import Foundation
import MathreelCore
import MathreelSpool
import MathreelSystem
import Testing
import TestSupport

func telegramSettings(_ fake: FakeTelegram) -> [String: String] {
    ["TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE": fake.baseURL]
}

func whatsappSettings(_ fake: FakeWhatsApp) -> [String: String] {
    ["WHATSAPP_TOKEN": fake.token, "WHATSAPP_PHONE_NUMBER_ID": fake.phoneNumberID, "WHATSAPP_API_BASE": fake.baseURL]
}

/// The accepted calls whose text mentions `needle`.
func told(_ log: PlatformLog, _ needle: String) -> [PlatformCall] {
    log.accepted.filter { call in
        let text = call.json?["text"]?.stringValue ?? call.json?["text"]?.objectValue?["body"]?.stringValue ?? ""
        return text.contains(needle)
    }
}

@Suite(.serialized) struct NoticeTests {
    @Test func telegramGetsTheLinkWithAWatchButtonAfterWaitingOutA429() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let telegram = try FakeTelegram()
        defer { telegram.stop() }
        telegram.log.fail(.rateLimited(retryAfter: 1))
        let delivery = try await Delivery.start(dir, telegramSettings(telegram))
        defer { delivery.daemon.kill() }
        let id = try await submitRendered(spool, channel: .telegram, chat: "123456789", messageID: "42")
        let url = try #require(try await readyJob(spool, id).delivery?.json["url"]?.stringValue)
        #expect(await waitUntil(timeout: 30) { telegram.log.accepted.count == 1 }, "\(delivery.daemon.log)")
        let calls = telegram.log.calls
        try #require(calls.count == 2)
        #expect(!calls[0].accepted && calls[1].accepted)
        #expect(calls[1].at.timeIntervalSince(calls[0].at) >= 1.0, "the retry came before Telegram's retry_after")
        #expect(calls[1].method == "sendmessage")
        let message = try #require(calls[1].json)
        #expect(message["chat_id"] == .int(123_456_789))
        #expect(message["text"]?.stringValue?.contains(url) == true)
        #expect(message["link_preview_options"]?.objectValue?["is_disabled"] == .bool(true))
        #expect(message["reply_parameters"]?.objectValue?["message_id"] == .int(42))
        let button = message["reply_markup"]?.objectValue?["inline_keyboard"]?.arrayValue?.first?.arrayValue?.first?.objectValue
        #expect(button?["url"]?.stringValue == url)
        #expect(button?["text"]?.stringValue?.contains("Watch") == true)
        // Telling the person does not use the link up.
        #expect(try await get(url).status == 200)
    }

    @Test func whatsappGetsATextWithTheLinkNeverTheLinkAsMedia() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let whatsapp = try FakeWhatsApp()
        defer { whatsapp.stop() }
        whatsapp.log.fail(.rateLimited(retryAfter: 1))
        let delivery = try await Delivery.start(dir, whatsappSettings(whatsapp))
        defer { delivery.daemon.kill() }
        let id = try await submitRendered(spool, channel: .whatsapp, chat: "16505551234")
        let url = try #require(try await readyJob(spool, id).delivery?.json["url"]?.stringValue)
        #expect(await waitUntil(timeout: 30) { whatsapp.log.accepted.count == 1 }, "\(delivery.daemon.log)")
        let calls = whatsapp.log.calls
        try #require(calls.count == 2)
        #expect(calls[1].at.timeIntervalSince(calls[0].at) >= 1.0, "the retry came before Retry-After")
        let message = try #require(calls[1].json)
        #expect(calls[1].method == "messages")
        #expect(calls[1].headers["authorization"] == "Bearer \(whatsapp.token)")
        #expect(message["to"]?.stringValue == "+16505551234")
        #expect(message["type"]?.stringValue == "text")
        #expect(message["text"]?.objectValue?["preview_url"] == .bool(false))
        #expect(message["text"]?.objectValue?["body"]?.stringValue?.contains(url) == true)
        #expect(!calls.contains { $0.json?["video"] != nil || $0.parts != nil })
        #expect(try await get(url).status == 200)
    }

    @Test func aFailedJobIsToldExactlyOnceAcrossRestarts() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let telegram = try FakeTelegram()
        defer { telegram.stop() }
        telegram.log.fail(.serverError, times: 1)
        var delivery = try await Delivery.start(dir, telegramSettings(telegram))
        let id = try submitFailed(spool, channel: .telegram, chat: "777")
        // The first try fails (502); the daemon stops before its next try.
        #expect(await waitUntil(timeout: 30) { telegram.log.calls.count == 1 }, "\(delivery.daemon.log)")
        #expect(await delivery.daemon.stop() == .exited(0))
        // A job that fails while the daemon is stopped is told too, once it is back.
        let whileDown = try submitFailed(spool, channel: .telegram, chat: "888", message: "No provider could write the code.")
        delivery = try await Delivery.start(dir, telegramSettings(telegram), port: delivery.port)
        #expect(await waitUntil(timeout: 60) { told(telegram.log, "longer than 300 s").count == 1 && told(telegram.log, "No provider").count == 1 },
                "\(delivery.daemon.log)")
        let notice = try #require(told(telegram.log, "longer than 300 s").first?.json)
        #expect(notice["chat_id"] == .int(777))
        #expect(notice["text"]?.stringValue?.contains("/retry") == true)
        let button = notice["reply_markup"]?.objectValue?["inline_keyboard"]?.arrayValue?.first?.arrayValue?.first?.objectValue
        #expect(button?["callback_data"]?.stringValue == "retry:\(id)")
        // Another restart, then a marker job: once the marker is told, the earlier ones were not told again.
        #expect(await delivery.daemon.stop() == .exited(0))
        delivery = try await Delivery.start(dir, telegramSettings(telegram), port: delivery.port)
        defer { delivery.daemon.kill() }
        _ = try submitFailed(spool, channel: .telegram, chat: "999", message: "Marker: the scene raised an error.")
        #expect(await waitUntil(timeout: 60) { told(telegram.log, "Marker").count == 1 })
        #expect(told(telegram.log, "longer than 300 s").count == 1)
        #expect(told(telegram.log, "No provider").count == 1)
        #expect(spool.locate(whileDown) == .failed)
    }

    @Test func anUnusedLinkExpiresItsVideoIsDeletedAndItsPersonIsTold() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let telegram = try FakeTelegram()
        defer { telegram.stop() }
        let settings = telegramSettings(telegram).merging(["MATHREEL_READY_TTL_S": "2", "MATHREEL_JANITOR_INTERVAL_S": "0.5"]) { $1 }
        let janitor = try StartedDaemon.start("mathreel-janitor", dir, settings)
        defer { janitor.kill() }
        let delivery = try await Delivery.start(dir, settings)
        defer { delivery.daemon.kill() }
        let id = try await submitRendered(spool, channel: .telegram, chat: "4242")
        let url = try #require(try await readyJob(spool, id).delivery?.json["url"]?.stringValue)
        #expect(await waitUntil(timeout: 30) { !told(telegram.log, url).isEmpty })
        #expect(await waitUntil(timeout: 60) { spool.locate(id) == .failed }, "\(janitor.log)")
        let expired = try Job.decode(try #require(spool.peek(.failed, FileName(id + ".json"))))
        #expect(expired.status == .expired && expired.error?.code == ErrorCode.expired)
        #expect(!FileManager.default.fileExists(atPath: dir.state + "/videos/\(id).mp4"))
        #expect(await waitUntil(timeout: 30) { told(telegram.log, "was not used within").count == 1 }, "\(delivery.daemon.log)")
        let page = try await get(url)
        #expect(page.status == 410)
        #expect(page.text.contains("not used in time"))
    }

    @Test func inlineDeliverySendsTheFileItselfAndThenDeletesIt() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let telegram = try FakeTelegram(), whatsapp = try FakeWhatsApp()
        defer { telegram.stop(); whatsapp.stop() }
        let settings = telegramSettings(telegram).merging(whatsappSettings(whatsapp)) { $1 }.merging(["MATHREEL_DELIVER_INLINE": "true"]) { $1 }
        let janitor = try StartedDaemon.start("mathreel-janitor", dir, settings)
        defer { janitor.kill() }
        let delivery = try await Delivery.start(dir, settings)
        defer { delivery.daemon.kill() }
        // Held back until both videos are stored, to compare the bytes sent.
        telegram.log.fail(.serverError, times: 1)
        whatsapp.log.fail(.serverError, times: 1)
        let tg = try await submitRendered(spool, channel: .telegram, chat: "55")
        let wa = try await submitRendered(spool, channel: .whatsapp, chat: "16505550000")
        _ = try await readyJob(spool, tg)
        _ = try await readyJob(spool, wa)
        let tgVideo = fileBytes(dir.state + "/videos/\(tg).mp4"), waVideo = fileBytes(dir.state + "/videos/\(wa).mp4")
        // A spool writer points the waiting job's `delivery.path` at a secret: the sender must not follow it.
        let secret = dir.path + "/mathreel.env"
        try "TELEGRAM_BOT_TOKEN=123:hunter2\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let readyPath = spool.path(.ready) + "/\(tg).json"
        var forged = try #require(JSONValue.parse(fileBytes(readyPath)).objectValue)
        var section = forged["delivery"]?.objectValue ?? [:]
        section["path"] = .string(secret)
        forged["delivery"] = .object(section)
        try Data(JSONValue.object(forged).serialized()).write(to: URL(fileURLWithPath: readyPath + ".forged"))
        #expect(rename(readyPath + ".forged", readyPath) == 0)
        #expect(await waitUntil(timeout: 60) { spool.locate(tg) == .done && spool.locate(wa) == .done }, "\(delivery.daemon.log)")

        let sent = try #require(telegram.log.accepted.first { $0.method == "sendvideo" })
        let parts = try #require(sent.parts)
        #expect(parts.first { $0.name == "chat_id" }?.text == "55")
        #expect(parts.first { $0.name == "video" }?.body == tgVideo, "the stored video went, not what delivery.path named")
        let sentBodies = telegram.log.calls.flatMap { $0.parts ?? [] }.map { String(decoding: $0.body, as: UTF8.self) }
        #expect(!sentBodies.contains { $0.contains("hunter2") }, "the secret file was uploaded")
        #expect(parts.first { $0.name == "video" }?.contentType == "video/mp4")
        let upload = try #require(whatsapp.log.accepted.first { $0.method == "media" })
        #expect(upload.parts?.first { $0.name == "file" }?.body == waVideo)
        let message = try #require(whatsapp.log.accepted.first { $0.method == "messages" }?.json)
        #expect(message["type"]?.stringValue == "video")
        #expect(message["video"]?.objectValue?["id"]?.stringValue?.hasPrefix("1166846181") == true)
        #expect(message["video"]?.objectValue?["link"] == nil)
        #expect(!tgVideo.isEmpty && !waVideo.isEmpty)
        #expect(await waitUntil(timeout: 10) {
            !FileManager.default.fileExists(atPath: dir.state + "/videos/\(tg).mp4") && !FileManager.default.fileExists(atPath: dir.state + "/videos/\(wa).mp4")
        })
        #expect(try Job.decode(try #require(spool.peek(.done, FileName(tg + ".json")))).status == .delivered)
    }
}
