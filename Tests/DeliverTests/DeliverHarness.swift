// Shared steps of the delivery tests: a real H.264 video made by ffmpeg, a job
// put into deliver/ as the renderer leaves it, the daemon on a port of its own,
// and plain HTTP calls to it.
import Foundation
import MathreelCore
import MathreelHTTP
import MathreelSpool
import MathreelSystem
import TestSupport

struct Delivery {
    let daemon: StartedDaemon
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    /// mathreel-deliver on `dir`, listening on a free port, ready when /health answers.
    static func start(_ dir: TempDir, _ settings: [String: String] = [:], port: Int? = nil) async throws -> Delivery {
        let port = port ?? freePort()
        let daemon = try StartedDaemon.start("mathreel-deliver", dir, [
            "MATHREEL_DELIVERY_ADDR": "127.0.0.1:\(port)", "MATHREEL_PUBLIC_URL": "http://127.0.0.1:\(port)",
        ].merging(settings) { $1 })
        let d = Delivery(daemon: daemon, port: port)
        var up = false
        for _ in 0..<600 where !up {
            up = (try? await HTTPClient().send(HTTPRequest(url: d.base + "/health", timeout: 2)))?.status == 200
            if !up { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard up else { throw TestFailure("mathreel-deliver did not start listening:\n\(daemon.log)") }
        return d
    }
}

/// An H.264 MP4 with faststart, like the renderer's (`seconds` long, 320x240 at 15 fps).
func makeVideo(_ path: String, seconds: Int = 2) async throws {
    let r = try await runCommand("/usr/bin/ffmpeg", ["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                                                     "-i", "testsrc=duration=\(seconds):size=320x240:rate=15",
                                                     "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", path])
    guard r.status == .exited(0) else { throw TestFailure("ffmpeg failed: \(r.stderr)") }
}

/// A job as the renderer hands it to deliver/, with its video and thumbnail in artifacts/<id>/.
@discardableResult
func submitRendered(_ spool: Spool, channel: Channel = .file, chat: String? = nil, messageID: String? = nil,
                    problem: String = "Solve x^2 - 5x + 6 = 0", seconds: Int = 2) async throws -> String {
    var job = Job(kind: .problem, problem: problem, origin: JobOrigin(channel: channel, chatID: chat, messageID: messageID))
    let dir = spool.artifactsPath(job.id)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try await makeVideo(dir + "/video.mp4", seconds: seconds)
    try PlainFile.write(Array("not really a jpeg".utf8), to: dir + "/thumbnail.jpg")
    job.code = "from manim import *"
    job.codegen = ["provider": .string("offline"), "answer": .string("x = 2, x = 3")]
    job.render = ["video": .string("artifacts/\(job.id)/video.mp4"), "thumbnail": .string("artifacts/\(job.id)/thumbnail.jpg")]
    job.record(.rendering, by: "render")
    try spool.submit(job, to: .deliver)
    return job.id
}

/// A job that failed in the pipeline, as a stage leaves it in failed/.
@discardableResult
func submitFailed(_ spool: Spool, channel: Channel, chat: String, message: String = "The animation took longer than 300 s to render.") throws -> String {
    var job = Job(kind: .problem, problem: "Draw the graph of y = sin(x)", origin: JobOrigin(channel: channel, chatID: chat))
    job.record(.queued, by: "ingest")
    job.error = JobError(stage: "render", code: ErrorCode.renderTimeout, message: message)
    job.record(.failed, by: "render", note: message)
    try spool.submit(job, to: .failed)
    return job.id
}

/// Waits for the job in ready/ and returns it.
func readyJob(_ spool: Spool, _ id: String, timeout: Double = 60) async throws -> Job {
    guard await waitUntil(timeout: timeout, { spool.locate(id) == .ready }),
          let bytes = spool.peek(.ready, FileName(id + ".json")) else {
        throw TestFailure("job \(id) did not reach ready/ (it is in \(spool.locate(id)?.path ?? "no place"))")
    }
    return try Job.decode(bytes)
}

func get(_ url: String, method: String = "GET", headers: [(String, String)] = []) async throws -> HTTPResponse {
    try await HTTPClient().send(HTTPRequest(method: method, url: url, headers: headers, timeout: 30, maxBody: 64 << 20))
}

func fileBytes(_ path: String) -> [UInt8] { (try? PlainFile.read(path)) ?? [] }
