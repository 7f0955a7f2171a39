// The spool's figures for `make bench`: jobs through a chain of five no-op
// stages with every hand-on durable (p50/p99 per hand-on, jobs per second end
// to end), and the resident memory of idle daemons.
import Foundation
import Logging
import MathreelCore
import MathreelDaemon
import MathreelSpool
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

final class Samples: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Double] = []
    func add(_ v: Double) { lock.lock(); values.append(v); lock.unlock() }
    var sorted: [Double] { lock.lock(); defer { lock.unlock() }; return values.sorted() }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
}

func tempDirectory(_ label: String, under base: String = "/tmp") -> String {
    var template = Array("\(base)/mathreel-bench-\(label)-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

struct ChainResult {
    let jobs: Int
    let seconds: Double
    let handOns: [Double]
}

/// Stages `jobs` files in incoming/, starts the five loops, and times until all are in done/.
func runChain(jobs: Int, concurrency: Int, under base: String) async throws -> ChainResult {
    let root = tempDirectory("chain", under: base)
    defer { try? FileManager.default.removeItem(atPath: root) }
    let spool = try Spool(root: root + "/spool")
    for _ in 0..<jobs { try spool.submit(NoOpChain.sampleJob(), to: .incoming) }
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let samples = Samples()
    let loops = NoOpChain.loops(spool: spool, concurrency: concurrency, logger: logger) { samples.add($0) }
    let start = Date()
    let seconds: Double = try await withThrowingTaskGroup(of: Double?.self) { group in
        for loop in loops { group.addTask { try await loop.run(); return nil } }
        group.addTask {
            while ((try? spool.list(.done).count) ?? 0) < jobs { try await Task.sleep(for: .milliseconds(50)) }
            return Date().timeIntervalSince(start)
        }
        var result = 0.0
        for try await r in group { if let r { result = r; group.cancelAll() } }
        return result
    }
    return ChainResult(jobs: jobs, seconds: seconds, handOns: samples.sorted)
}

/// Starts a daemon on an empty spool, lets it settle, and reads its resident memory.
func idleRSS(binary: String, seconds: Double = 3) async throws -> Int? {
    let root = tempDirectory("idle")
    defer { try? FileManager.default.removeItem(atPath: root) }
    let devnull = open("/dev/null", O_WRONLY)
    defer { close(devnull) }
    var env = ProcessInfo.processInfo.environment
    env["MATHREEL_SPOOL"] = root + "/spool"
    env["MATHREEL_STATE"] = root + "/state"
    let child = try ChildProcess(path: binary, arguments: [], environment: env, stderr: devnull, newSession: true)
    try await Task.sleep(for: .seconds(seconds))
    let kb = memoryKB(child.pid, "VmRSS")
    child.signal(SIGTERM)
    _ = await child.wait(timeout: 10)
    return kb
}
