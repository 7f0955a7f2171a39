// TestSupport: what every test target needs to run the real binaries on a
// throwaway spool: where the built executables are, temporary directories,
// waiting for a condition, and running a command to completion.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

public enum Binaries {
    /// The directory holding the package's built executables (beside the test bundle).
    public static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["MATHREEL_BIN_DIR"], !dir.isEmpty { return dir }
        var exe = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &exe, exe.count - 1)
        let path = n > 0 ? String(decoding: exe.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        var url = URL(fileURLWithPath: path).deletingLastPathComponent()
        // swift-testing runs inside <products>/<Package>PackageTests.xctest on Linux.
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("mathreel-ingest").path),
              url.path != "/" {
            url = url.deletingLastPathComponent()
        }
        return url.path
    }

    public static func path(_ name: String) -> String {
        _ = ephemeralPorts
        return directory + "/" + name
    }

    /// Daemons started by tests listen on ports the kernel picks, unless a test chose
    /// one: suites run in parallel, and a fixed default port would collide.
    static let ephemeralPorts: Void = {
        setenv("MATHREEL_INGEST_ADDR", "127.0.0.1:0", 0)
    }()
}

/// A fresh directory under /tmp (same filesystem as nothing else of the host), removed on deinit.
public final class TempDir: @unchecked Sendable {
    public let path: String
    public init(_ label: String = "mathreel-test") {
        var template = Array("/tmp/\(label)-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    public var spool: String { path + "/spool" }
    public var state: String { path + "/state" }
}

/// Polls `condition` until it holds or `timeout` seconds pass; returns whether it held.
public func waitUntil(timeout: Double, interval: Double = 0.02, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .seconds(interval))
    }
    return try condition()
}

/// Claims a file this process locked before. A child another test is spawning holds
/// a copy of every descriptor between its fork and its exec, the old lock with them,
/// so `.busy` here means "for a moment", never "another worker".
public func claimAgain(_ name: FileName, from queue: Place, in spool: Spool) async -> ClaimResult {
    var result = spool.claim(name, from: queue)
    _ = await waitUntil(timeout: 10) {
        if case .busy = result { result = spool.claim(name, from: queue); if case .busy = result { return false } }
        return true
    }
    return result
}

/// Walks a job on from `from` to `to` through each place between, claiming and handing
/// on as the stages would (`Moves` allows no shortcut); `last` changes it before the last hop.
public func advance(_ spool: Spool, _ id: String, from: Place, to: Place, last: (inout Job) -> Void = { _ in }) async throws {
    let chain: [Place] = [.incoming, .codegen, .render, .deliver, .ready, .done]
    guard let a = chain.firstIndex(of: from), let b = chain.firstIndex(of: to), a < b else { throw TestFailure("no way on from \(from) to \(to)") }
    for i in a..<b {
        guard case .claimed(let claim) = await claimAgain(FileName(id + ".json"), from: chain[i], in: spool) else {
            throw TestFailure("could not claim \(id) from \(chain[i].path)/")
        }
        var job = try claim.job()
        if i == b - 1 { last(&job) }
        try claim.handOn(job, to: chain[i + 1])
    }
}

/// Recovers a queue's orphans, waiting out a spawning child's copy of an old lock
/// (as `claimAgain`); returns what the first pass that found any did.
public func recoverAgain(_ queue: Place, in spool: Spool) async -> [Recovered] {
    var out: [Recovered] = []
    _ = await waitUntil(timeout: 10) {
        out = spool.recoverOrphans(of: queue, by: "test")
        return !out.isEmpty
    }
    return out
}

public struct CommandResult: Sendable {
    public let status: Termination
    public let stdout: String
    public let stderr: String
}

/// Runs a program to completion and collects its output (files, not pipes, so
/// nothing can block on a full pipe).
public func runCommand(_ path: String, _ args: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                       input: String? = nil, timeout: Double = 120) async throws -> CommandResult {
    let out = try ScratchFile()
    let err = try ScratchFile()
    let stdin = try input.map { try ScratchFile(contents: Array($0.utf8)) }
    let child = try ChildProcess(path: path, arguments: args, environment: environment, stdin: stdin?.fd ?? -1, stdout: out.fd, stderr: err.fd,
                                 newSession: true)
    let (status, timedOut) = await child.wait(orKillAfter: timeout)
    if timedOut { throw ChildError(description: "\(path) \(args) did not finish in \(timeout) s") }
    return CommandResult(status: status, stdout: String(decoding: out.read(limit: 16 << 20), as: UTF8.self),
                         stderr: String(decoding: err.read(limit: 16 << 20), as: UTF8.self))
}

/// How many job files a place holds.
public func count(_ spool: Spool, _ place: Place) -> Int {
    ((try? spool.list(place)) ?? []).filter { $0.string?.hasSuffix(".json") == true }.count
}

/// A spool's job files in a place, decoded.
public func jobs(in spool: Spool, _ place: Place) -> [Job] {
    ((try? spool.list(place)) ?? []).compactMap { name in spool.peek(place, name).flatMap { try? Job.decode($0) } }
}

/// The checkout this test suite belongs to.
public let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The Manim environment's Python: MATHREEL_PYTHON, else the checkout's `.venv` (made by `make setup`).
public let manimPython = ProcessInfo.processInfo.environment["MATHREEL_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
    ?? repoRoot + "/.venv/bin/python"

/// A loopback port nothing listens on right now (the kernel's pick; a test binds it next).
public func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// SplitMix64: a small seedable generator, so a random test can be replayed from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A test's own failure, with what it saw.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
