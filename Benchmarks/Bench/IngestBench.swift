// Webhook figures: wrk posting Telegram updates (each a new update from a new
// chat, with the secret header) at mathreel-ingest over loopback. Every 200 means
// the job was published durably (fsync of file and directory) and the
// acknowledgement queued for a stand-in Bot API (nginx answering every call with
// Telegram's success shape, so the stand-in costs the shared 2 cores little; the
// test suite's recording fake where nginx is missing). The daemon's peak memory
// is read from /proc while it runs.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem
import TestSupport

func runIngestBench(binDir: String, under dir: String) async throws {
    print("")
    print("Webhooks: Telegram updates posted by wrk (1 thread, 16 connections, 10 s), each a new job published durably")
    print("  targets: >= 1000 accepted/s, p99 < 50 ms, memory < 50 MB")
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") else { print("  wrk is not installed (apt-get install wrk); skipped"); return }
    let root = tempDirectory("ingest", under: dir)
    print("  spool under \(dir)")
    defer { try? FileManager.default.removeItem(atPath: root) }
    let botAPI = try await BotAPIStandIn.start(under: root)
    defer { botAPI.stop() }
    let port = Int.random(in: 20_000..<40_000), secret = "bench-secret-0123"
    var env = ProcessInfo.processInfo.environment
    env["MATHREEL_LOG_LEVEL"] = "error"
    env["MATHREEL_INGEST_ADDR"] = "127.0.0.1:\(port)"
    env["MATHREEL_MAX_QUEUED"] = "1000000"
    env["TELEGRAM_SECRET_TOKEN"] = secret
    env["TELEGRAM_BOT_TOKEN"] = botAPI.token
    env["TELEGRAM_API_BASE"] = botAPI.base
    let devnull = open("/dev/null", O_WRONLY)
    defer { close(devnull) }
    let spool = try Spool(root: root + "/spool")
    let ingest = try ChildProcess(path: binDir + "/mathreel-ingest", arguments: ["--spool", root + "/spool", "--state", root + "/state"],
                                  environment: env, stdout: devnull, stderr: devnull, newSession: true)
    defer { ingest.signalGroup(SIGKILL) }
    try await Task.sleep(for: .seconds(2))

    let script = root + "/updates.lua"
    try PlainFile.write(Array("""
        local threads = 0
        setup = function(thread) thread:set("tid", threads); threads = threads + 1 end
        -- The run's number keeps each run's update ids new (a repeated id is a duplicate, no job).
        local run = 0
        init = function(args) run = tonumber(args[1]) end
        local n = 0
        request = function()
          n = n + 1
          local id = run * 10000000000 + (tid + 1) * 100000000 + n
          local body = string.format('{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,"is_bot":false,"first_name":"Ana"},"chat":{"id":%d,"type":"private"},"date":1767225600,"text":"Solve x^2 - %d = 0 for x"}}', id, n, id, id, n)
          return wrk.format("POST", "/webhook/telegram", {["Content-Type"] = "application/json", ["X-Telegram-Bot-Api-Secret-Token"] = "\(secret)"}, body)
        end
        """.utf8), to: script)
    let url = "http://127.0.0.1:\(port)"
    for (run, (label, seconds)) in [("warm-up", 2), ("measured", 10)].enumerated() {
        let before = (try? spool.list(.codegen).count) ?? 0
        let report = try await WrkReport.run(["-t1", "-c16", "-d\(seconds)s", "--latency", "-s", script, url, "--", String(run + 1)],
                                             seconds: Double(seconds))
        guard label == "measured", let report else { continue }
        let rate = report.requestsPerSecond ?? 0
        let p50 = report.latency("50%") ?? .nan, p99 = report.latency("99%") ?? .nan
        let failures = report.line("Non-2xx") ?? "no non-2xx answers"
        let made = ((try? spool.list(.codegen).count) ?? 0) - before
        let accepted = Double(made) / Double(seconds)
        let peak = memoryKB(ingest.pid, "VmHWM").map { Double($0) / 1024 } ?? .nan
        print(String(format: "  %.0f requests/s, %d jobs made in %d s: %.0f accepted/s   target >= 1000: ", rate, made, seconds, accepted)
              + (accepted >= 1000 ? "met" : "MISSED"))
        print(String(format: "  latency p50 %.2f ms  p99 %.2f ms   target p99 < 50 ms: ", p50, p99) + (p99 < 50 ? "met" : "MISSED"))
        print(String(format: "  mathreel-ingest peak resident memory %.1f MB   target < 50 MB: ", peak) + (peak < 50 ? "met" : "MISSED"))
        print("  (\(failures); acknowledgements at the stand-in Bot API (\(botAPI.kind)), both runs: \(botAPI.calls()))")
    }
    ingest.signal(SIGTERM)
    _ = await ingest.wait(timeout: 15)
}

/// Where the acknowledgements go: nginx when installed, else the tests' fake.
struct BotAPIStandIn {
    let base: String
    let token: String
    let kind: String
    let calls: () -> Int
    let stop: () -> Void

    static func start(under root: String) async throws -> BotAPIStandIn {
        let ok = #"{"ok":true,"result":{"message_id":1,"date":1767225600,"chat":{"id":1,"type":"private"},"text":"ok"}}"#
        if let nginx = try await startNginx(under: root, server: "access_log \(root)/nginx/access.log; default_type application/json; location / { return 200 '\(ok)'; }") {
            let log = root + "/nginx/access.log"
            return BotAPIStandIn(base: nginx.base, token: "123456:bench", kind: "nginx", calls: { (try? PlainFile.read(log))?.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } ?? 0 },
                                 stop: { nginx.process.signalGroup(SIGKILL) })
        }
        let fake = try FakeTelegram()
        return BotAPIStandIn(base: fake.baseURL, token: fake.token, kind: "recording fake", calls: { fake.log.accepted.count }, stop: { fake.stop() })
    }
}
