// A fuzzer over every route of ingest's web side: random and mutated requests
// (methods, paths, queries, headers, bodies from the real shapes with bytes
// flipped, cut, spliced or retyped), sent as raw bytes over TCP from a few
// threads. Nothing may answer 5xx, the daemon must stay up, and no webhook
// without its secret or signature may make a job. The seed is printed; set
// MATHREEL_FUZZ_SEED to replay one run.
import Foundation
import MathreelCore
import MathreelHTTP
import MathreelSpool
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

extension SplitMix64 {
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
    mutating func pick<T>(_ a: [T]) -> T { a[Int.random(in: 0..<a.count, using: &self)] }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &self) } }
}

/// What one request got back: a status, or nil when the connection ended without one.
struct FuzzOutcome: Sendable {
    let route: String
    let status: Int?
    let wellFormed: Bool
}

enum RawHTTP {
    /// A TCP connection to 127.0.0.1:`port` with read and write timeouts; nil when refused.
    static func connect(port: Int, timeout: Int = 20) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); return nil }
        return fd
    }

    /// Sends `bytes` on a new connection to 127.0.0.1:`port`, half-closes, and reads the status line.
    static func status(port: Int, _ bytes: [UInt8]) -> Int? {
        guard let fd = connect(port: port) else { return nil }
        defer { close(fd) }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            // The server may answer (413, 400) and close before reading everything.
            if n <= 0 { break }
            off += n
        }
        shutdown(fd, Int32(SHUT_WR))
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while head.count < 64 {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            head += buffer[0..<n]
        }
        // "HTTP/1.1 200 OK"
        let line = String(decoding: head.prefix(64), as: UTF8.self)
        guard line.hasPrefix("HTTP/1."), line.count >= 12 else { return nil }
        return Int(line.dropFirst(9).prefix(3))
    }
}

struct Fuzzer {
    let port: Int
    /// Phase two sends webhooks with the right secret and signature, to reach their parsers.
    let authenticated: Bool

    static let routes: [(method: String, path: String)] = [
        ("POST", "/webhook/telegram"), ("GET", "/webhook/whatsapp"), ("POST", "/webhook/whatsapp"),
        ("POST", "/api/v1/jobs"), ("POST", "/api/v1/code"), ("POST", "/api/v1/code/validate"),
        ("GET", "/api/v1/jobs"), ("GET", "/api/v1/jobs/{id}"), ("GET", "/api/v1/jobs/{id}/events"),
        ("POST", "/api/v1/jobs/{id}/scenes/2/edit"), ("POST", "/api/v1/jobs/{id}/scenes/99999999999999999999/edit"),
        ("GET", "/"), ("GET", "/app.js"), ("GET", "/health"), ("GET", "/metrics"),
    ]

    static let telegramSeeds = [
        WebSide.message(1, text: "Solve x^2-5x+6=0"),
        WebSide.message(2, text: "/code\n```python\nfrom manim import *\nclass A(Scene):\n    def construct(self):\n        pass\n```"),
        WebSide.message(3, text: "/solve@MathVidBot x + 1 = 2", chat: -100123, type: "group", extra: #","entities":[{"offset":0,"length":16,"type":"bot_command"}]"#),
        WebSide.message(4, text: nil, extra: #","photo":[{"file_id":"AgAD","file_unique_id":"u","width":90,"height":90}]"#),
        #"{"update_id":5,"edited_message":{"message_id":42,"from":{"id":5,"is_bot":false,"first_name":"Ana"},"chat":{"id":5,"type":"private"},"date":1767225600,"edit_date":1767225660,"text":"x"}}"#,
        #"{"update_id":6,"callback_query":{"id":"4382","from":{"id":5,"is_bot":false,"first_name":"Ana"},"message":{"message_id":9,"chat":{"id":5,"type":"private"},"date":1767225600,"text":"failed"},"data":"retry:00000000-0000-4000-8000-000000000000"}}"#,
        #"{"update_id":7,"channel_post":{"message_id":7,"chat":{"id":-100999,"type":"channel","title":"News"},"date":1767225600,"text":"Solve x^2 = 9"}}"#,
        WebSide.message(8, text: "/status 1234"), WebSide.message(9, text: "/history"), WebSide.message(10, text: "/retry"),
        WebSide.message(14, text: "/edit 99999999999999999999 slower"), WebSide.message(15, text: "/edit 2"),
        // Entity offsets and lengths at the edges of Int64 (offset + length once trapped).
        WebSide.message(11, text: "/solve@MathVidBot x = 1", extra: #","entities":[{"offset":1,"length":9223372036854775807,"type":"bot_command"}]"#),
        WebSide.message(12, text: "/solve x = 1", extra: #","entities":[{"offset":9223372036854775807,"length":9223372036854775807,"type":"mention"}]"#),
        WebSide.message(13, text: "/solve x = 1", extra: #","entities":[{"offset":-9223372036854775808,"length":-1,"type":"bot_command"}]"#),
    ]

    static func whatsapp(_ messages: String) -> String {
        #"{"object":"whatsapp_business_account","entry":[{"id":"1022","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena"},"wa_id":"16505551234"}],"#
            + messages + #"},"field":"messages"}]}]}"#
    }

    static let whatsappSeeds = [
        whatsapp(#""messages":[{"from":"16505551234","id":"wamid.A","timestamp":"1749416383","type":"text","text":{"body":"Solve x^2-1=0"}}]"#),
        whatsapp(#""messages":[{"from":"16505551234","id":"wamid.B","timestamp":"1749416383","type":"image","image":{"id":"1","mime_type":"image/jpeg","sha256":"x"}}]"#),
        whatsapp(#""statuses":[{"id":"wamid.C","status":"delivered","timestamp":"1749416383","recipient_id":"16505551234"}]"#),
        #"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]},{"id":"2","changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"wamid.D","type":"text","text":{"body":"Solve 2x=4"}}]}}]}]}"#,
    ]

    static let apiSeeds = [
        #"{"problem_text":"Solve x^2 - 5x + 6 = 0"}"#,
        #"{"problem_text":"Integrate x^2 from 0 to 3","options":{"quality":"low","format":"mp4","voiceover":false}}"#,
        #"{"code":"from manim import *\nclass A(Scene):\n    def construct(self):\n        self.play(Write(MathTex(\"x\")))\n"}"#,
        #"{"problem_text":"now with 3 instead of 5","session_id":"AAAAAAAAAAAAAAAAAAAAAA"}"#,
    ]

    static let secret = WebSide.secret

    /// One request's bytes, what route it aimed at, and whether it is well-formed HTTP.
    func request(_ r: inout SplitMix64) -> (bytes: [UInt8], route: String, wellFormed: Bool) {
        var (method, path) = r.chance(0.93) ? r.pick(Fuzzer.routes) : ("GET", "/" + String(decoding: r.bytes(Int.random(in: 0..<20, using: &r)).map { 0x61 + $0 % 26 }, as: UTF8.self))
        let route = "\(method) \(path)"
        let id = r.chance(0.5) ? JobID.make() : r.pick(["x", "..", "%2e%2e", "00000000-0000-0000-0000-000000000000", String(repeating: "a", count: 300)])
        path = path.replacingOccurrences(of: "{id}", with: id)
        if r.chance(0.05) { method = r.pick(["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "get", "P0ST"]) }
        if r.chance(0.08) { path = r.pick([path + "/", path + "/../../etc/passwd", "/%2e%2e/%2e%2e" + path, path + "%00", path + String(repeating: "/x", count: 500), "//" + path]) }
        if r.chance(0.3) { path += "?" + query(&r) }

        var headers: [(String, String)] = [("Host", "127.0.0.1")]
        var body: [UInt8] = []
        if method == "POST" || r.chance(0.05) {
            body = self.body(for: path, &r)
            let types = ["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/jsonx", "APPLICATION/JSON"]
            let type = r.chance(0.8) ? "application/json" : r.pick(types)
            if !type.isEmpty { headers.append(("Content-Type", type)) }
        }
        if path.hasPrefix("/webhook/telegram") {
            if authenticated && r.chance(0.9) { headers.append(("X-Telegram-Bot-Api-Secret-Token", Fuzzer.secret)) }
            else if r.chance(0.7) { headers.append(("X-Telegram-Bot-Api-Secret-Token", r.pick([Fuzzer.secret + "x", String(Fuzzer.secret.dropLast()), "", "s3cret", String(repeating: "A", count: 5000)]))) }
        }
        if path.hasPrefix("/webhook/whatsapp") && method == "POST" {
            if authenticated && r.chance(0.9) {
                headers.append(("X-Hub-Signature-256", "sha256=" + SHA256.hexString(SHA256.hmac(key: Array(WebSide.appSecret.utf8), body))))
            } else if r.chance(0.7) {
                let good = SHA256.hexString(SHA256.hmac(key: Array(WebSide.appSecret.utf8), body))
                let wrongLast = good.hasSuffix("0") ? "1" : "0"
                headers.append(("X-Hub-Signature-256", r.pick(["sha256=" + String(good.dropLast()) + wrongLast, good, "sha1=" + good, "sha256=", "sha256=zz" + good, "sha256=" + good.uppercased() + "00"])))
            }
        }
        if path.hasPrefix("/api/") && r.chance(0.15) {
            // Timestamps at Int64's edges (`abs(now - ms)` once trapped on the first), and now and then a correct signature.
            let stamp = r.pick(["0", "-1", "\(Int64(Date().timeIntervalSince1970 * 1000))", "99999999999999999999", "abc",
                                "-9223372036854775808", "9223372036854775807", "-9223372036854775807", " 1", "+1"])
            headers.append(("X-Timestamp", stamp))
            let good = SHA256.hexString(SHA256.hmac(key: Array(WebSide.apiSecret.utf8), Array((stamp + ".").utf8) + body))
            headers.append(("X-Signature", r.chance(0.3) ? good : String(decoding: r.bytes(32).map { 0x30 + $0 % 10 }, as: UTF8.self)))
        }
        if r.chance(0.1) { headers.append(("X-Correlation-Id", String(decoding: r.bytes(Int.random(in: 0..<300, using: &r)).map { 0x21 + $0 % 94 }, as: UTF8.self))) }
        if r.chance(0.05) { headers.append((r.pick(["Transfer-Encoding", "Expect", "Accept", "Range", "Cookie"]), r.pick(["chunked", "100-continue", "*/*", "bytes=0-", "a=b"]))) }

        var wellFormed = true
        var length = body.count
        if r.chance(0.02) { length += Int.random(in: 1...100, using: &r); wellFormed = false }
        if r.chance(0.02) { length = max(0, length - Int.random(in: 1...10, using: &r)); wellFormed = false }
        if !body.isEmpty || method == "POST" { headers.append(("Content-Length", String(length))) }
        headers.append(("Connection", "close"))
        var head = "\(method) \(path) HTTP/1.1\r\n" + headers.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n"
        if r.chance(0.01) { head = String(decoding: r.bytes(Int.random(in: 1..<200, using: &r)), as: UTF8.self) + "\r\n\r\n"; wellFormed = false }
        if r.chance(0.005) { head = "\(method) \(path) HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n"; body = []; wellFormed = false }
        // Chunked or header oddities aside, a path with bytes HTTP does not allow is not well-formed either.
        if path.contains(where: { $0 == " " || !$0.isASCII }) { wellFormed = false }
        return (Array(head.utf8) + body, route, wellFormed)
    }

    func query(_ r: inout SplitMix64) -> String {
        var parts: [String] = []
        for _ in 0..<Int.random(in: 1...4, using: &r) {
            let key = r.pick(["session_id", "hub.mode", "hub.verify_token", "hub.challenge", "x", "session_id[]", "%00", "a"])
            let value = r.pick(["subscribe", "vibecoding", "1158201444", Token.make().text, "", "%zz", "%C3%A9", String(repeating: "v", count: 2000), "a&b=c"])
            parts.append(key + "=" + value)
        }
        return parts.joined(separator: "&")
    }

    func body(for path: String, _ r: inout SplitMix64) -> [UInt8] {
        if r.chance(0.05) { return r.bytes(Int.random(in: 0..<512, using: &r)) }
        let seed: String
        if path.hasPrefix("/webhook/telegram") { seed = r.pick(Fuzzer.telegramSeeds) }
        else if path.hasPrefix("/webhook/whatsapp") { seed = r.pick(Fuzzer.whatsappSeeds) }
        else { seed = r.pick(Fuzzer.apiSeeds) }
        var bytes = Array(seed.utf8)
        // Fresh ids, so most bodies are new updates rather than duplicates.
        if r.chance(0.7), var value = try? JSONValue.parse(bytes) {
            for _ in 0..<Int.random(in: 1...3, using: &r) { value = mutate(value, &r, depth: 0) }
            bytes = value.serialized(pretty: false)
        }
        if r.chance(0.35) { bytes = flip(bytes, &r) }
        return bytes
    }

    /// A structural change somewhere in the value: a field retyped, dropped, added or made huge.
    func mutate(_ v: JSONValue, _ r: inout SplitMix64, depth: Int) -> JSONValue {
        switch v {
        case .object(var o) where !o.isEmpty && r.chance(0.75):
            let key = r.pick(Array(o.keys).sorted())
            switch Int.random(in: 0..<10, using: &r) {
            case 0: o[key] = nil
            case 1: o[r.pick(["update_id", "text", "problem_text", "code", "session_id", "options", "message", "entry", "__proto__", ""])] = randomValue(&r, depth: depth)
            default: o[key] = mutate(o[key]!, &r, depth: depth + 1)
            }
            return .object(o)
        case .array(var a) where !a.isEmpty && r.chance(0.75):
            let i = Int.random(in: 0..<a.count, using: &r)
            if r.chance(0.2) { a.append(contentsOf: Array(repeating: a[i], count: Int.random(in: 1...30, using: &r))) } else { a[i] = mutate(a[i], &r, depth: depth + 1) }
            return .array(a)
        case .int(let n) where r.chance(0.5):
            return .int(r.pick([n &+ Int64.random(in: 1...1_000_000, using: &r), 0 &- n, 0, Int64.max, Int64.min, 9_007_199_254_740_993]))
        case .string(let s) where r.chance(0.5):
            return .string(r.pick([s + s, String(s.reversed()), "", "/start", "/forget", "/retry abcd", "/code", "```\n" + s + "\n```",
                                   String(repeating: "\u{202E}∫", count: 300), s + "\u{0000}", String(repeating: "🧮", count: 2000)]))
        default:
            return randomValue(&r, depth: depth)
        }
    }

    func randomValue(_ r: inout SplitMix64, depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 6 : 8), using: &r) {
        case 0: return .null
        case 1: return .bool(r.chance(0.5))
        case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &r))
        case 3: return .double(r.pick([0.5, -1e308, 1e308, 3.14]))
        case 4: return .string(String(decoding: r.bytes(Int.random(in: 0..<64, using: &r)).map { 0x20 + $0 % 95 }, as: UTF8.self))
        case 5: return .string(String(repeating: "y", count: Int.random(in: 0..<20_000, using: &r)))
        case 6: return .array((0..<Int.random(in: 0..<4, using: &r)).map { _ in randomValue(&r, depth: depth + 1) })
        default: return .object(["update_id": .int(Int64.random(in: 0...1 << 40, using: &r)), "text": randomValue(&r, depth: depth + 1)])
        }
    }

    /// Byte-level damage: flips, a cut, a splice of random bytes, or deep nesting.
    func flip(_ input: [UInt8], _ r: inout SplitMix64) -> [UInt8] {
        var b = input
        switch Int.random(in: 0..<5, using: &r) {
        case 0: for _ in 0..<Int.random(in: 1...8, using: &r) where !b.isEmpty { b[Int.random(in: 0..<b.count, using: &r)] = UInt8.random(in: 0...255, using: &r) }
        case 1: b = Array(b.prefix(Int.random(in: 0...b.count, using: &r)))
        case 2: b.insert(contentsOf: r.bytes(Int.random(in: 1...32, using: &r)), at: Int.random(in: 0...b.count, using: &r))
        case 3: let n = Int.random(in: 100...50_000, using: &r); b = Array(repeating: UInt8(ascii: "["), count: n) + Array(repeating: UInt8(ascii: "]"), count: n)
        default: b = [0xEF, 0xBB, 0xBF] + b + [0xC3, 0x28, 0xFF]
        }
        return b
    }
}

@Suite struct FuzzTests {
    /// `count` requests from `threads` threads, each with its own generator from `seed`.
    func run(_ fuzzer: Fuzzer, count: Int, threads: Int, seed: UInt64) async -> [FuzzOutcome] {
        await withCheckedContinuation { (done: CheckedContinuation<[FuzzOutcome], Never>) in
            let results = Mutex<(all: [FuzzOutcome], finished: Int)>(([], 0))
            for t in 0..<threads {
                Thread.detachNewThread {
                    var r = SplitMix64(state: seed &+ UInt64(t) &* 0x1000_0000_0000)
                    var mine: [FuzzOutcome] = []
                    for _ in 0..<(count / threads) {
                        let (bytes, route, wellFormed) = fuzzer.request(&r)
                        mine.append(FuzzOutcome(route: route, status: RawHTTP.status(port: fuzzer.port, bytes), wellFormed: wellFormed))
                    }
                    let all: [FuzzOutcome]? = results.withLock {
                        $0.all += mine; $0.finished += 1
                        return $0.finished == threads ? $0.all : nil
                    }
                    if let all { done.resume(returning: all) }
                }
            }
        }
    }

    func summary(_ outcomes: [FuzzOutcome]) -> String {
        var byStatus: [String: Int] = [:]
        for o in outcomes { byStatus[o.status.map(String.init) ?? "none", default: 0] += 1 }
        return byStatus.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
    }

    @Test(.timeLimit(.minutes(8)))
    func twentyThousandRandomAndMutatedRequestsGetNo5xxAndNoUnauthenticatedJob() async throws {
        let seed = ProcessInfo.processInfo.environment["MATHREEL_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        print("fuzz seed \(seed) (MATHREEL_FUZZ_SEED=\(seed) replays it)")
        // No limit or queue bound turns the flood into 429/503 for the wrong reason: the parsers are what is under test.
        let w = try await WebSide.start(["MATHREEL_MAX_QUEUED": "1000000", "MATHREEL_RATE_LIMIT_BURST": "10000", "MATHREEL_RATE_LIMIT_PER_HOUR": "1000000",
                                         "MATHREEL_NEW_SESSIONS_BURST": "10000", "MATHREEL_RATE_LIMIT_TOTAL_BURST": "100000",
                                         "MATHREEL_API_SECRET": WebSide.apiSecret])
        defer { w.telegram.stop() }

        // Phase one: webhooks never carry a good secret or signature.
        let first = await run(Fuzzer(port: w.daemon.port, authenticated: false), count: 16_000, threads: 4, seed: seed)
        let webhookJobs = Place.all.flatMap { w.jobs($0) }.filter { $0.origin.channel == .telegram || $0.origin.channel == .whatsapp }
        #expect(webhookJobs.isEmpty, "jobs from unauthenticated webhooks: \(webhookJobs.map(\.id))")
        #expect(!w.telegram.log.calls.contains { $0.method == "sendmessage" }, "an unauthenticated update was answered in chat")

        // Phase two: authenticated webhooks with mutated updates reach the parsers and the chat desk.
        let second = await run(Fuzzer(port: w.daemon.port, authenticated: true), count: 4_000, threads: 4, seed: seed &+ 1)
        let outcomes = first + second
        print("fuzz: \(outcomes.count) requests; statuses \(summary(outcomes))")
        #expect(outcomes.count >= 20_000)

        let serverErrors = outcomes.filter { ($0.status ?? 0) >= 500 }
        var byRoute: [String: Int] = [:]
        for o in serverErrors { byRoute["\(o.route) → \(o.status!)", default: 0] += 1 }
        #expect(serverErrors.isEmpty, "5xx answers (seed \(seed)): \(byRoute)")
        let unanswered = outcomes.filter { $0.status == nil && $0.wellFormed }
        #expect(unanswered.isEmpty, "\(unanswered.count) well-formed requests got no answer (seed \(seed)): \(Set(unanswered.map(\.route)))")
        #expect(w.daemon.isRunning, "the daemon crashed: \(w.daemon.log.suffix(3000))")
        let health = try await HTTPClient().send(HTTPRequest(url: w.daemon.base + "/health"))
        #expect(health.status == 200)
        #expect(!w.daemon.log.contains("Fatal error"), "\(w.daemon.log.suffix(3000))")
    }
}
