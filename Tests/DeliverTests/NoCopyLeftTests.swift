// "The video is deleted once watched", proven on disk: the whole pipeline runs
// for code jobs, and once a video is downloaded, sent inline or forgotten, no
// file under the test's directory (spool, state and the daemons' logs) holds
// the video's bytes, whole or as a 4 KB piece of it.
import Foundation
import MathreelCore
import MathreelHTTP
import MathreelSpool
import MathreelSystem
import Testing
import TestSupport

/// Every regular file under `root` that is the video or holds a 4 KB piece from its middle.
func copies(of video: [UInt8], under root: String) -> [String] {
    precondition(video.count >= 8192, "a video this small proves little")
    let digest = SHA256.hex(video)
    let piece = Data(video[(video.count / 2)..<(video.count / 2 + 4096)])
    var out: [String] = []
    let fm = FileManager.default
    for case let rel as String in fm.enumerator(atPath: root) ?? NSEnumerator() {
        let path = root + "/" + rel
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, let bytes = fm.contents(atPath: path) else { continue }
        if SHA256.hex(bytes) == digest || bytes.range(of: piece) != nil { out.append(rel) }
    }
    return out.sorted()
}

/// Ingest, render, deliver and the janitor on one test directory, offline.
struct Pipeline {
    let dir: TempDir
    let spool: Spool
    let delivery: Delivery
    let ingestBase: String
    let daemons: [StartedDaemon]
    static let secret = "s3cret-Zq3_lk-9aP0"

    static func start(_ extra: [String: String] = [:]) async throws -> Pipeline {
        let dir = TempDir()
        let port = freePort()
        // A render past its clock fails with a message well inside a test's wait for ready/
        // (a stalled job is then told apart from a slow one by the daemons' move lines).
        let settings = ["MATHREEL_PYTHON": manimPython, "MATHREEL_PROVIDERS": "offline", "MATHREEL_ACCESS_SETTLE_S": "3", "MATHREEL_RENDER_TIMEOUT_S": "150",
                        "MATHREEL_INGEST_ADDR": "127.0.0.1:\(port)", "TELEGRAM_SECRET_TOKEN": secret].merging(extra) { $1 }
        var daemons: [StartedDaemon] = []
        for name in ["mathreel-ingest", "mathreel-render", "mathreel-janitor"] {
            daemons.append(try StartedDaemon.start(name, dir, settings))
        }
        let delivery = try await Delivery.start(dir, settings)
        let p = Pipeline(dir: dir, spool: try Spool(root: dir.spool), delivery: delivery, ingestBase: "http://127.0.0.1:\(port)",
                         daemons: daemons + [delivery.daemon])
        let up = await waitUntil(timeout: 30, interval: 0.1) {
            (try? PlainFile.read(dir.path + "/mathreel-ingest.log")).map { String(decoding: $0, as: UTF8.self).contains("\"msg\":\"ready\"") } ?? false
        }
        guard up else { throw TestFailure("ingest did not start:\n\(daemons[0].log)") }
        return p
    }

    var root: String { dir.path }
    var state: String { dir.state }

    func stop() { daemons.forEach { $0.kill() } }
    var logs: String { daemons.map(\.log).joined(separator: "\n") }

    /// A code job dropped into incoming/ as a person would; its id once it waits in ready/.
    func drop(_ code: String) async throws -> Job {
        let name = "\(UUID().uuidString).json"
        let before = Set(((try? spool.list(.ready)) ?? []).compactMap(\.jobID))
        try PlainFile.write(JSONValue.object(["code": .string(code)]).serialized(), to: spool.path(.incoming, name))
        return try await nextReady(besides: before)
    }

    /// The first job to reach ready/ that is not in `before`.
    func nextReady(besides before: Set<String>) async throws -> Job {
        var id: String?
        _ = await waitUntil(timeout: 240, interval: 0.2) {
            id = ((try? spool.list(.ready)) ?? []).compactMap(\.jobID).first { !before.contains($0) }
            return id != nil || count(spool, .failed) > 0 || daemons.contains { $0.child.termination != nil }
        }
        guard let id else { throw TestFailure("no job reached ready/: \(jobs(in: spool, .failed).first?.error?.message ?? "")\n\(logs)") }
        return try await readyJob(spool, id)
    }

    /// Downloads the video through its link, in full; the bytes.
    func download(_ job: Job) async throws -> [UInt8] {
        let url = try #require(job.delivery?.json["url"]?.stringValue)
        let r = try await get(url + "/download")
        #expect(r.status == 200)
        return r.body
    }

    /// Waits until the janitor has dealt with a job in done/ and its stored video is gone.
    func watched(_ job: Job) async -> Bool {
        await waitUntil(timeout: 30) { spool.locate(job.id) == .done && !FileManager.default.fileExists(atPath: state + "/videos/\(job.id).mp4") }
    }

    /// Waits for no copy under the test's directory; the copies left.
    func noCopyLeft(_ video: [UInt8]) async -> [String] {
        _ = await waitUntil(timeout: 10, interval: 0.2) { copies(of: video, under: root).isEmpty }
        return copies(of: video, under: root)
    }

    func telegram(_ updateID: Int64, _ text: String, chat: Int64 = 424242) async throws -> HTTPResponse {
        let body = """
            {"update_id":\(updateID),"message":{"message_id":\(updateID),"from":{"id":\(chat),"is_bot":false,"first_name":"Ana"},\
            "chat":{"id":\(chat),"type":"private"},"date":1767225600,"text":\(String(decoding: JSONValue.string(text).serialized(pretty: false), as: UTF8.self))}}
            """
        return try await HTTPClient().send(HTTPRequest(method: "POST", url: ingestBase + "/webhook/telegram",
                                                       headers: [("Content-Type", "application/json"), ("X-Telegram-Bot-Api-Secret-Token", Pipeline.secret)],
                                                       body: Array(body.utf8), timeout: 20))
    }
}

/// A scene that renders in a few seconds and makes a video of some tens of KB.
func tinyScene(_ label: String) -> String {
    "from manim import *\n\nclass Demo(Scene):\n    def construct(self):\n"
        + "        self.play(Create(Circle()), Write(Text(\"\(label)\")))\n        self.play(Rotate(Square(), angle=2))\n"
}

@Suite(.serialized) struct NoCopyLeftTests {
    @Test(.timeLimit(.minutes(5)))
    func afterADownloadNoFileUnderTheSpoolOrStateHoldsTheVideo() async throws {
        let p = try await Pipeline.start()
        defer { p.stop() }
        let job = try await p.drop(tinyScene("once"))
        let video = try await p.download(job)
        #expect(video.count > 8192)
        #expect(await p.watched(job), "\(p.logs)")
        let left = await p.noCopyLeft(video)
        #expect(left.isEmpty, "a copy of the watched video is still on disk: \(left)")
    }

    @Test(.timeLimit(.minutes(6)))
    func aRepeatServedFromTheCacheWorksAndNothingRemainsOnceBothAreWatched() async throws {
        let p = try await Pipeline.start()
        defer { p.stop() }
        let first = try await p.drop(tinyScene("twice"))
        let again = try await p.drop(tinyScene("twice"))
        #expect(again.render?.json["cache_hit"] == .bool(true), "the repeat came from the cache")
        let video = try await p.download(first)
        #expect(await p.watched(first), "\(p.logs)")
        // Only what the repeat still needs may hold the bytes: its own stored video, and the cache's entry.
        for path in copies(of: video, under: p.root) {
            #expect(path == "state/videos/\(again.id).mp4" || path.hasPrefix("state/render-cache/"), "\(path)")
        }
        #expect(try await p.download(again) == video, "the repeat plays the same video")
        #expect(await p.watched(again), "\(p.logs)")
        let left = await p.noCopyLeft(video)
        #expect(left.isEmpty, "a copy of the watched video is still on disk: \(left)")
    }

    @Test(.timeLimit(.minutes(5)))
    func forgetRemovesTheVideoAndItsCacheEntry() async throws {
        let telegram = try FakeTelegram()
        defer { telegram.stop() }
        let p = try await Pipeline.start(telegramSettings(telegram))
        defer { p.stop() }
        let before = Set(((try? p.spool.list(.ready)) ?? []).compactMap(\.jobID))
        #expect(try await p.telegram(1, "```python\n" + tinyScene("forget") + "```").status == 200)
        let job = try await p.nextReady(besides: before)
        let video = fileBytes(p.state + "/videos/\(job.id).mp4")
        #expect(video.count > 8192)
        #expect(try await p.telegram(2, "/forget").status == 200)
        #expect(await waitUntil(timeout: 20) { p.spool.locate(job.id) == .failed }, "\(p.logs)")
        let left = await p.noCopyLeft(video)
        #expect(left.isEmpty, "a copy of the forgotten video is still on disk: \(left)")
    }

    @Test(.timeLimit(.minutes(5)))
    func aVideoSentInlineLeavesNoCopy() async throws {
        let telegram = try FakeTelegram()
        defer { telegram.stop() }
        let p = try await Pipeline.start(telegramSettings(telegram).merging(["MATHREEL_DELIVER_INLINE": "true"]) { $1 })
        defer { p.stop() }
        #expect(try await p.telegram(1, "```python\n" + tinyScene("inline") + "```").status == 200)
        #expect(await waitUntil(timeout: 240, interval: 0.2) { telegram.log.accepted.contains { $0.method == "sendvideo" } }, "\(p.logs)")
        let sent = try #require(telegram.log.accepted.first { $0.method == "sendvideo" }?.parts?.first { $0.name == "video" }?.body)
        #expect(await waitUntil(timeout: 20) { count(p.spool, .done) == 1 }, "\(p.logs)")
        let left = await p.noCopyLeft(sent)
        #expect(left.isEmpty, "a copy of the video sent inline is still on disk: \(left)")
    }
}
