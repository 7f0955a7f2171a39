// The deliver daemon for real: a rendered job becomes a one-time link, the video
// is served with Range semantics, a full transfer (or the grace after the first
// byte) uses the link up, the janitor deletes the file and every route says 410.
import Foundation
import MathreelCore
import MathreelSpool
import MathreelSystem
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct WatchSiteTests {
    @Test func aRenderedJobGetsAOneTimeLinkWhoseVideoIsServedWithRanges() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let delivery = try await Delivery.start(dir)
        defer { delivery.daemon.kill() }
        let id = try await submitRendered(spool)
        let job = try await readyJob(spool, id)
        #expect(job.status == .ready && job.progress == 100)
        let url = try #require(job.delivery?.json["url"]?.stringValue)
        #expect(url.hasPrefix(delivery.base + "/v/"))
        let token = String(url.dropFirst((delivery.base + "/v/").count))
        #expect(token.utf8.count == 43)
        let expires = try #require(job.delivery?.json["expires_at"]?.stringValue.flatMap(Timestamp.parse))
        #expect(abs(expires.timeIntervalSinceNow - 86_400) < 120)
        // Moved into the store, not copied; the state holds the token's hash only.
        let stored = dir.state + "/videos/\(id).mp4"
        let video = fileBytes(stored)
        #expect(video.count > 1000)
        #expect(!FileManager.default.fileExists(atPath: spool.artifactsPath(id) + "/video.mp4"))
        #expect(job.delivery?.json["path"]?.stringValue == stored)
        let db = try String(decoding: PlainFile.read(dir.state + "/delivery.sqlite"), as: UTF8.self)
            + ((try? String(contentsOfFile: dir.state + "/delivery.sqlite-wal", encoding: .isoLatin1)) ?? "")
        #expect(!db.contains(token))

        let page = try await get(url)
        #expect(page.status == 200)
        #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.headers["cache-control"] == "no-store")
        #expect(page.headers["referrer-policy"] == "no-referrer")
        #expect(page.text.contains("Solve x^2 - 5x + 6 = 0"))
        #expect(page.text.contains("<video") && page.text.contains("/v/\(token)/video"))
        #expect(page.text.contains("/v/\(token)/download"))
        #expect(page.text.contains("x = 2, x = 3"))

        let head = try await get(url + "/video", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.headers["accept-ranges"] == "bytes")
        #expect(head.headers["content-type"] == "video/mp4")
        #expect(head.headers["content-length"] == "\(video.count)")
        #expect(head.body.isEmpty)

        let first = try await get(url + "/video", headers: [("Range", "bytes=0-99")])
        #expect(first.status == 206)
        #expect(first.headers["content-range"] == "bytes 0-99/\(video.count)")
        #expect(first.body == Array(video[0..<100]))
        let last = try await get(url + "/video", headers: [("Range", "bytes=-50")])
        #expect(last.status == 206)
        #expect(last.body == Array(video.suffix(50)))
        let past = try await get(url + "/video", headers: [("Range", "bytes=\(video.count)-")])
        #expect(past.status == 416)
        #expect(past.headers["content-range"] == "bytes */\(video.count)")

        // Pieces that do not cover the file leave the link alive; so does the page itself.
        #expect(try await get(url).status == 200)
        #expect(spool.locate(id) == .ready)

        for bad in ["/v/" + String(repeating: "A", count: 43), "/v/" + String(repeating: "A", count: 43) + "/video",
                    "/v/short", "/v/..%2F..%2Fetc%2Fpasswd/video", "/v/\(token)x"] {
            #expect(try await get(delivery.base + bad).status == 404, "\(bad)")
        }
    }

    @Test func aFullDownloadDeletesTheVideoAtOnceAndEveryRouteThenAnswers410() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let janitor = try StartedDaemon.start("mathreel-janitor", dir)
        defer { janitor.kill() }
        let delivery = try await Delivery.start(dir)
        defer { delivery.daemon.kill() }
        let id = try await submitRendered(spool)
        let url = try #require(try await readyJob(spool, id).delivery?.json["url"]?.stringValue)
        let stored = dir.state + "/videos/\(id).mp4"
        let video = fileBytes(stored)

        let download = try await get(url + "/download")
        #expect(download.status == 200)
        #expect(download.headers["content-disposition"]?.hasPrefix("attachment;") == true)
        #expect(download.body == video)
        // Access is complete when the job reaches done/; the janitor deletes the file at once.
        #expect(await waitUntil(timeout: 10, interval: 0.005) { spool.locate(id) == .done }, "in \(spool.locate(id)?.path ?? "no place")\n\(delivery.daemon.log)")
        let gone = await waitUntil(timeout: 1, interval: 0.005) { !FileManager.default.fileExists(atPath: stored) }
        #expect(gone, "the video was still on disk a second after access completed\n\(janitor.log)")
        let done = try Job.decode(try #require(spool.peek(.done, FileName(id + ".json"))))
        #expect(done.status == .delivered)
        for route in ["", "/video", "/download"] {
            let r = try await get(url + route)
            #expect(r.status == 410, "\(route)")
            #expect(r.text.contains("deleted"), "\(route)")
        }
        #expect(try await get(url + "/video", method: "HEAD").status == 410)
    }

    /// A client that takes every byte and hangs up at once (a reset, before the server has
    /// closed the response) has still downloaded the video: the link is used up.
    @Test func aDownloadWhoseClientHangsUpAfterTheLastByteStillCounts() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let delivery = try await Delivery.start(dir)
        defer { delivery.daemon.kill() }
        for _ in 0..<5 {
            let id = try await submitRendered(spool)
            let url = try #require(try await readyJob(spool, id).delivery?.json["url"]?.stringValue)
            let size = fileBytes(dir.state + "/videos/\(id).mp4").count
            let path = String(url.dropFirst("http://127.0.0.1:\(delivery.port)".count)) + "/download"
            let got = try readAllThenReset(port: delivery.port, path: path)
            #expect(got == size, "the client read the whole body")
            #expect(await waitUntil(timeout: 10) { spool.locate(id) == .done }, "in \(spool.locate(id)?.path ?? "no place")\n\(delivery.daemon.log)")
        }
    }

    @Test func rangesThatTogetherCoverTheFileCountAsOneFullTransfer() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let delivery = try await Delivery.start(dir, ["MATHREEL_ACCESS_SETTLE_S": "1"])
        defer { delivery.daemon.kill() }
        let id = try await submitRendered(spool)
        let url = try #require(try await readyJob(spool, id).delivery?.json["url"]?.stringValue)
        let video = fileBytes(dir.state + "/videos/\(id).mp4")
        let size = video.count
        #expect(try await get(url + "/video", headers: [("Range", "bytes=\(size / 2)-")]).status == 206)
        #expect(spool.locate(id) == .ready)
        #expect(try await get(url + "/video", headers: [("Range", "bytes=0-\(size / 2)")]).status == 206)
        // Covered; a player that dropped a connection it was sent may still ask again while it settles.
        let again = try await get(url + "/video")
        #expect(again.status == 200 && again.body == video)
        #expect(await waitUntil(timeout: 15) { spool.locate(id) == .done })
        let done = try Job.decode(try #require(spool.peek(.done, FileName(id + ".json"))))
        #expect(done.history.last?.note == "one full transfer completed")
        #expect(try await get(url).status == 410)
    }

    @Test func aViewingStartedButNeverFinishedUsesTheLinkUpAfterTheGrace() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let delivery = try await Delivery.start(dir, ["MATHREEL_ACCESS_GRACE_S": "1"])
        defer { delivery.daemon.kill() }
        let id = try await submitRendered(spool)
        let url = try #require(try await readyJob(spool, id).delivery?.json["url"]?.stringValue)
        #expect(try await get(url + "/video", headers: [("Range", "bytes=0-99")]).status == 206)
        #expect(await waitUntil(timeout: 20) { spool.locate(id) == .done }, "\(delivery.daemon.log)")
        let done = try Job.decode(try #require(spool.peek(.done, FileName(id + ".json"))))
        #expect(done.history.last?.note?.contains("after the first byte") == true)
        #expect(try await get(url + "/video").status == 410)
    }
}

/// GET `path` over a raw socket, read the head and exactly Content-Length bytes of body,
/// then close with a reset (SO_LINGER 0); the body bytes read.
func readAllThenReset(port: Int, path: String) throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("no socket") }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard ok == 0 else { close(fd); throw TestFailure("no connection") }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
    var data: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    var headEnd: Int?, length: Int?
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        guard n > 0 else { break }
        data += buf.prefix(n)
        if headEnd == nil, let r = data.firstRange(of: Array("\r\n\r\n".utf8)) {
            headEnd = r.upperBound
            let head = String(decoding: data[..<r.lowerBound], as: UTF8.self).lowercased()
            length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }.flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
        }
        if let headEnd, let length, data.count - headEnd >= length { break }
    }
    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    close(fd)
    return headEnd.map { data.count - $0 } ?? 0
}
