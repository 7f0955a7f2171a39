// Delivery figures: the pipeline's own overhead from a code job dropped into
// incoming/ to the link's first byte (the render's own time taken out), and the
// watch site's rate for range requests on a 5 MB video beside nginx's.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelHTTP
import MathreelSpool
import MathreelSystem

struct PipelineBench {
    let root: String
    let spool: Spool
    let port: Int
    var children: [ChildProcess] = []

    static func start(binDir: String, python: String) throws -> PipelineBench {
        let root = tempDirectory("deliver")
        let port = Int.random(in: 20_000..<40_000)
        var bench = PipelineBench(root: root, spool: try Spool(root: root + "/spool"), port: port)
        var env = ProcessInfo.processInfo.environment
        env["MATHREEL_PYTHON"] = python
        env["MATHREEL_LOG_LEVEL"] = "error"
        env["MATHREEL_DELIVERY_ADDR"] = "127.0.0.1:\(port)"
        env["MATHREEL_PUBLIC_URL"] = "http://127.0.0.1:\(port)"
        // Links stay alive through the measurements.
        env["MATHREEL_ACCESS_SETTLE_S"] = "3600"
        env["MATHREEL_ACCESS_GRACE_S"] = "3600"
        let devnull = open("/dev/null", O_WRONLY)
        defer { close(devnull) }
        for name in ["mathreel-ingest", "mathreel-render", "mathreel-deliver"] {
            bench.children.append(try ChildProcess(path: binDir + "/" + name, arguments: ["--spool", root + "/spool", "--state", root + "/state"],
                                                   environment: env, stdout: devnull, stderr: devnull, newSession: true))
        }
        return bench
    }

    func stop() async {
        for c in children { c.signal(SIGTERM) }
        for c in children { _ = await c.wait(timeout: 15) }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Drops a code job into incoming/ as a person would; waits for it in ready/.
    func drop(_ code: String, marker: String) async throws -> (Job, Double) {
        let name = "bench-\(UInt64.random(in: 0...UInt64.max)).json"
        let body = JSONValue.object(["code": .string(code)]).serialized(pretty: false)
        let start = ContinuousClock.now
        try spool.publish(body, as: name, to: .incoming)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            for ready in (try? spool.list(.ready)) ?? [] {
                guard let bytes = spool.peek(.ready, ready), let job = try? Job.decode(bytes), job.code?.contains(marker) == true else { continue }
                return (job, seconds(start))
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw ChildError(description: "a bench job did not become ready")
    }
}

func runDeliverBench(binDir: String, python: String) async throws {
    print("Delivery: a code job dropped into incoming/ until the link's first byte, the render's own time taken out (target p50 < 50 ms)")
    guard FileManager.default.isExecutableFile(atPath: binDir + "/mathreel-deliver") else { print("  mathreel-deliver: not built"); return }
    let bench = try PipelineBench.start(binDir: binDir, python: python)
    try await Task.sleep(for: .seconds(4))
    var overheads: [Double] = [], totals: [Double] = []
    let client = HTTPClient()
    for i in 0..<21 {
        // Each job's code differs by a comment after the first: the render cache serves the scene.
        let (job, waited) = try await bench.drop(benchCode(benchScenes[0].body) + "\n# bench \(i)\n", marker: "# bench \(i)\n")
        guard let url = job.delivery?.json["url"]?.stringValue else { throw ChildError(description: "no link") }
        let start = ContinuousClock.now
        let r = try await client.send(HTTPRequest(url: url + "/video", headers: [("Range", "bytes=0-0")]))
        guard r.status == 206 else { throw ChildError(description: "first byte: HTTP \(r.status)") }
        let total = waited + seconds(start)
        // The render itself: the sandboxed run and its ffprobe/ffmpeg pass (zero on a cache hit).
        let timings = job.render?.json["timings"]?.objectValue
        let render = (timings?["sandbox_s"]?.doubleValue ?? 0) + (timings?["post_s"]?.doubleValue ?? 0)
        if i > 0 { totals.append(total * 1000); overheads.append((total - render) * 1000) }
    }
    overheads.sort(); totals.sort()
    let p50 = percentile(overheads, 0.5)
    print(String(format: "  overhead p50 %.1f ms  p90 %.1f ms   (whole way incl. render: p50 %.1f ms; %d jobs)",
                 p50, percentile(overheads, 0.9), percentile(totals, 0.5), overheads.count)
          + "   target p50 < 50 ms: " + (p50 < 50 ? "met" : "MISSED"))

    print("")
    print("Serving: a 5 MB video in 1 MB range requests over loopback, wrk 2 threads x 8 connections, 5 s, 3 rounds")
    let video = bench.root + "/video.mp4"
    try PlainFile.write((0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }, to: video)
    var job = Job(kind: .code, code: "x", origin: JobOrigin(channel: .file))
    try FileManager.default.createDirectory(atPath: bench.spool.artifactsPath(job.id), withIntermediateDirectories: true)
    try PlainFile.copy(video, to: bench.spool.artifactsPath(job.id) + "/video.mp4")
    job.render = ["video": .string("artifacts/\(job.id)/video.mp4")]
    try bench.spool.submit(job, to: .deliver)
    var url: String?
    for _ in 0..<2000 where url == nil {
        url = bench.spool.peek(.ready, FileName(job.id + ".json")).flatMap { try? Job.decode($0) }?.delivery?.json["url"]?.stringValue
        if url == nil { try await Task.sleep(for: .milliseconds(5)) }
    }
    guard let url, FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") else {
        print("  wrk is not installed (apt-get install wrk); skipped")
        await bench.stop()
        return
    }
    // Three rounds, alternating with nginx, and the medians: a shared machine's noise
    // falls on both sides instead of on one run.
    let nginx = try await startNginx(serving: video, under: bench.root)
    var ours: [Double] = [], theirs: [Double] = []
    for _ in 0..<3 {
        if let r = try await wrk(url + "/video", under: bench.root) { ours.append(r) }
        if let nginx, let r = try await wrk(nginx.url, under: bench.root) { theirs.append(r) }
    }
    nginx?.process.signalGroup(SIGKILL)
    let ourRate = percentile(ours.sorted(), 0.5)
    print(String(format: "  mathreel-deliver  %.0f requests/s  (%.0f MB/s; median of 3 runs: %@)", ourRate, ourRate, rates(ours)))
    if !theirs.isEmpty {
        let nginxRate = percentile(theirs.sorted(), 0.5), ratio = ourRate / nginxRate
        print(String(format: "  nginx             %.0f requests/s  (%.0f MB/s; median of 3 runs: %@)", nginxRate, nginxRate, rates(theirs)))
        print(String(format: "  ratio %.2f of nginx   target >= 0.5: ", ratio) + (ratio >= 0.5 ? "met" : "MISSED"))
    } else {
        print("  nginx is not installed; no comparison (apt-get install nginx-light)")
    }
    await bench.stop()
}

func rates(_ runs: [Double]) -> String { runs.map { String(format: "%.0f", $0) }.joined(separator: ", ") }

/// Requests per second from wrk with 1 MB ranges cycling through the 5 MB file; nil without wrk.
func wrk(_ url: String, under root: String) async throws -> Double? {
    let script = root + "/ranges.lua"
    try PlainFile.write(Array("""
        local i = 0
        request = function()
          local start = (i % 5) * 1048576
          i = i + 1
          return wrk.format("GET", nil, {["Range"] = "bytes=" .. start .. "-" .. (start + 1048575)})
        end
        """.utf8), to: script)
    return try await WrkReport.run(["-t2", "-c8", "-d5s", "-s", script, url], seconds: 5)?.requestsPerSecond
}

/// nginx serving the same file (sendfile on), for comparison; nil without nginx.
func startNginx(serving file: String, under root: String) async throws -> (url: String, process: ChildProcess)? {
    let www = root + "/nginx/www"
    guard let nginx = try await startNginx(under: root, server: "root \(www);") else { return nil }
    try PlainFile.copy(file, to: www + "/video.mp4")
    chmod(www + "/video.mp4", 0o644)
    return (nginx.base + "/video.mp4", nginx.process)
}

/// nginx on a loopback port with one server block's directives; nil without nginx.
/// Its access log is <root>/nginx/access.log.
func startNginx(under root: String, server: String) async throws -> (base: String, process: ChildProcess)? {
    guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") else { return nil }
    let port = Int.random(in: 40_000..<50_000)
    let prefix = root + "/nginx"
    try FileManager.default.createDirectory(atPath: prefix + "/www", withIntermediateDirectories: true)
    chmod(root, 0o755); chmod(prefix, 0o755); chmod(prefix + "/www", 0o755)
    try PlainFile.write(Array("""
        daemon off; worker_processes auto; pid \(prefix)/nginx.pid; error_log \(prefix)/error.log;
        events { worker_connections 256; }
        http {
          access_log off; sendfile on; tcp_nopush on; default_type video/mp4;
          client_body_temp_path \(prefix)/tmp; proxy_temp_path \(prefix)/tmp; fastcgi_temp_path \(prefix)/tmp;
          uwsgi_temp_path \(prefix)/tmp; scgi_temp_path \(prefix)/tmp;
          server { listen 127.0.0.1:\(port); \(server) }
        }
        """.utf8), to: prefix + "/nginx.conf")
    let devnull = open("/dev/null", O_WRONLY)
    defer { close(devnull) }
    let nginx = try ChildProcess(path: "/usr/sbin/nginx", arguments: ["-c", prefix + "/nginx.conf", "-p", prefix],
                                 environment: ProcessInfo.processInfo.environment, stdout: devnull, stderr: devnull, newSession: true)
    try await Task.sleep(for: .seconds(1))
    return ("http://127.0.0.1:\(port)", nginx)
}
