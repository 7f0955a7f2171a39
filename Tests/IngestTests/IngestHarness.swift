// A real `mathreel-ingest` on a throwaway spool, and the ways a person puts files
// into incoming/: written elsewhere and renamed in, written in place like `cp`,
// or made in place (links, FIFOs, directories). Names are bytes: they need not be UTF-8.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

struct HarnessError: Error, CustomStringConvertible {
    let description: String
}

final class IngestDaemon: @unchecked Sendable {
    let dir: TempDir
    let spool: Spool
    private(set) var child: ChildProcess?
    var logPath: String { dir.path + "/ingest.log" }
    /// The web side's port, picked free for this daemon.
    let port = freePort()
    var base: String { "http://127.0.0.1:\(port)" }

    init() throws {
        dir = TempDir("mathreel-ingest-test")
        spool = try Spool(root: dir.spool)
    }

    deinit {
        if let child, child.termination == nil { child.signalGroup(SIGKILL) }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    func readyLines() -> Int { log.components(separatedBy: "\"msg\":\"ready\"").count - 1 }

    /// Starts the daemon and waits for its "ready" line (it has watched and scanned incoming/).
    func start(environment extra: [String: String] = [:]) async throws {
        let before = readyLines()
        let daemon = try StartedDaemon.start("mathreel-ingest", dir, ["MATHREEL_INGEST_ADDR": "127.0.0.1:\(port)"].merging(extra) { $1 }, log: "ingest.log")
        let child = daemon.child
        self.child = child
        _ = await daemon.waitReady(after: before)
        if let t = child.termination { throw HarnessError(description: "mathreel-ingest stopped at start (\(t)): \(log)") }
        guard readyLines() > before else { throw HarnessError(description: "mathreel-ingest never said ready: \(log)") }
    }

    var isRunning: Bool { child != nil && child?.termination == nil }

    /// SIGTERM, then how it ended (nil: still running after `timeout`).
    func stop(timeout: Double = 10) async -> Termination? {
        guard let child else { return nil }
        child.signal(SIGTERM)
        return await child.wait(timeout: timeout)
    }

    // MARK: Paths as bytes

    func path(_ place: Place, _ name: [UInt8]) -> [UInt8] { Array(spool.path(place).utf8) + [UInt8(ascii: "/")] + name }
    func path(_ place: Place, _ name: String) -> [UInt8] { path(place, Array(name.utf8)) }

    // MARK: Putting files in

    private var counter = 0

    /// Writes the file in tmp/ (same filesystem, never watched), then renames it into incoming/.
    func drop(_ bytes: [UInt8], as name: [UInt8]) throws {
        counter += 1
        let staged = path(.tmp, "drop-\(getpid())-\(counter).part")
        try writeFile(staged, bytes)
        try check(cRename(staged, path(.incoming, name)), "rename into incoming")
    }
    func drop(_ text: String, as name: String) throws { try drop(Array(text.utf8), as: Array(name.utf8)) }

    /// Writes the file directly in incoming/, like `cp` (created, written, closed).
    func write(_ bytes: [UInt8], as name: [UInt8]) throws { try writeFile(path(.incoming, name), bytes) }
    func write(_ text: String, as name: String) throws { try write(Array(text.utf8), as: Array(name.utf8)) }

    // MARK: Looking

    func names(_ place: Place) -> [FileName] { (try? spool.list(place)) ?? [] }
    func jobs(_ place: Place) -> [Job] { TestSupport.jobs(in: spool, place) }
    func job(in place: Place, problem: String) -> Job? { jobs(place).first { $0.problem == problem } }
    func job(in place: Place, id: String) -> Job? { jobs(place).first { $0.id == id } }

    /// The reason files in quarantine/, by the name the file arrived with.
    func reasons() -> [String: Reason] {
        var out: [String: Reason] = [:]
        for name in names(.quarantine) {
            guard let s = name.string, s.hasSuffix(".reason"),
                  let text = try? String(contentsOfFile: spool.path(.quarantine, s), encoding: .utf8) else { continue }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard let arrived = lines.first(where: { $0.hasPrefix("It arrived as: ") })?.dropFirst("It arrived as: ".count),
                  let why = lines.first(where: { $0.hasPrefix("Why: ") })?.dropFirst("Why: ".count) else { continue }
            out[String(arrived)] = Reason(entry: String(s.dropLast(".reason".count)), arrivedAs: String(arrived), why: String(why), text: text)
        }
        return out
    }

    /// Bytes the daemon has read through read(2)/pread(2) so far (/proc/<pid>/io rchar).
    func bytesRead() -> Int? {
        guard let child, let io = try? String(contentsOfFile: "/proc/\(child.pid)/io", encoding: .utf8) else { return nil }
        for line in io.split(separator: "\n") where line.hasPrefix("rchar:") {
            return Int(line.dropFirst("rchar:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}

struct Reason {
    /// The name of the set-aside entry in quarantine/.
    let entry: String
    let arrivedAs: String
    let why: String
    let text: String
}

// MARK: - Byte-path file operations

func withCPath<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    (path + [0]).withUnsafeBufferPointer { buf in
        buf.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
    }
}

func cRename(_ from: [UInt8], _ to: [UInt8]) -> Int32 {
    withCPath(from) { f in withCPath(to) { t in rename(f, t) } }
}

func check(_ rc: Int32, _ what: String) throws {
    if rc != 0 { throw HarnessError(description: "\(what): \(String(cString: strerror(errno)))") }
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, bytes.count - off) }
        if n < 0 { if errno == EINTR { continue }; throw HarnessError(description: "write: \(String(cString: strerror(errno)))") }
        off += n
    }
}

func writeFile(_ path: [UInt8], _ bytes: [UInt8]) throws {
    let fd = withCPath(path) { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
    guard fd >= 0 else { throw HarnessError(description: "create \(String(decoding: path, as: UTF8.self)): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    try writeAll(fd, bytes)
}

/// Opens a new file for writing and keeps it open (a writer that has not finished).
func openForWriting(_ path: [UInt8]) throws -> Int32 {
    let fd = withCPath(path) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
    guard fd >= 0 else { throw HarnessError(description: "create: \(String(cString: strerror(errno)))") }
    return fd
}

func lstatKind(_ path: [UInt8]) -> mode_t? {
    var st = stat()
    return withCPath(path) { lstat($0, &st) } == 0 ? st.st_mode & S_IFMT : nil
}

func exists(_ path: [UInt8]) -> Bool { lstatKind(path) != nil }

/// Sets a file's modification time `seconds` into the past.
func age(_ path: [UInt8], by seconds: Double) throws {
    let t = Date().timeIntervalSince1970 - seconds
    var times = [timespec(tv_sec: Int(t), tv_nsec: 0), timespec(tv_sec: Int(t), tv_nsec: 0)]
    try check(withCPath(path) { utimensat(AT_FDCWD, $0, &times, AT_SYMLINK_NOFOLLOW) }, "utimensat")
}

/// A small valid job file.
func problemFile(_ problem: String, extra: JSONObject = [:]) -> [UInt8] {
    var o = extra
    o["problem"] = .string(problem)
    return JSONValue.object(o).serialized()
}

func codeFile(_ code: String) -> [UInt8] { JSONValue.object(["code": .string(code)]).serialized() }

let sampleCode = """
    from manim import *

    class Solve(Scene):
        def construct(self):
            self.play(Write(MathTex("x^2 - 5x + 6 = 0")))

    """
