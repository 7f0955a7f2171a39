// Spool: the directory tree of docs/PROTOCOL.md and the one object that touches it.
// It keeps a descriptor per directory so every rename and fsync is relative to
// a directory opened once, and it publishes new jobs (protocol step 1).
import MathreelCore
import MathreelSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A directory of the spool, named by its path relative to the root.
public enum Place: Hashable, Sendable, CustomStringConvertible {
    case tmp, incoming, codegen, render, deliver, ready, done, failed, quarantine
    /// Jobs claimed from a queue (`active/ingest` for incoming, else `active/<queue>`).
    indirect case active(Place)
    case deferred(Stage)

    public static func queue(_ stage: Stage) -> Place {
        switch stage {
        case .ingest: .incoming
        case .codegen: .codegen
        case .render: .render
        case .deliver: .deliver
        }
    }
    /// Queues a job can be claimed from.
    public static let claimable: [Place] = [.incoming, .codegen, .render, .deliver, .ready, .failed, .done]
    public static let all: [Place] = [.tmp, .incoming, .codegen, .render, .deliver, .ready, .done, .failed, .quarantine]
        + claimable.map { .active($0) } + Stage.allCases.map { .deferred($0) }

    public var path: String {
        switch self {
        case .tmp: "tmp"
        case .incoming: "incoming"
        case .codegen: "codegen"
        case .render: "render"
        case .deliver: "deliver"
        case .ready: "ready"
        case .done: "done"
        case .failed: "failed"
        case .quarantine: "quarantine"
        case .active(.incoming): "active/ingest"
        case .active(let q): "active/\(q.path)"
        case .deferred(let s): "deferred/\(s.rawValue)"
        }
    }
    public var description: String { path }

    public init?(path: String) {
        guard let p = Place.all.first(where: { $0.path == path }) else { return nil }
        self = p
    }
    /// The stage that consumes this queue, if one does.
    public var stage: Stage? { Stage.allCases.first { Place.queue($0) == self } }
}

public final class Spool: Sendable {
    public let root: String
    private let fds: [Place: Int32]
    public let artifactsFD: Int32
    public let rootFD: Int32
    private let syncs: [Place: DirectorySync]
    private let scratch = Mutex<[FileName]>([])
    /// Tests only: called in a hand-on between its rename and its fsyncs.
    package let afterRename = Mutex<(@Sendable (Place, FileName) -> Void)?>(nil)

    /// Opens (creating where missing) every directory of the spool under root.
    public init(root: String, create: Bool = true) throws {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        if create {
            for dir in Place.all.map(\.path) + ["artifacts"] {
                try PlainDirectory.make(self.root + "/" + dir)
            }
        }
        var fds: [Place: Int32] = [:]
        for p in Place.all { fds[p] = try FileOps.openDirectory(self.root + "/" + p.path) }
        self.fds = fds
        syncs = fds.reduce(into: [:]) { $0[$1.key] = DirectorySync(fd: $1.value, what: $1.key.path) }
        artifactsFD = try FileOps.openDirectory(self.root + "/artifacts")
        rootFD = try FileOps.openDirectory(self.root)
    }

    deinit {
        for fd in fds.values { close(fd) }
        close(artifactsFD)
        close(rootFD)
    }

    func fd(_ p: Place) -> Int32 { fds[p]! }
    public func path(_ p: Place) -> String { root + "/" + p.path }
    public func path(_ p: Place, _ name: String) -> String { root + "/" + p.path + "/" + name }
    public func artifactsPath(_ id: String) -> String { root + "/artifacts/" + id }

    /// Makes the directory's entries durable (group-committed with concurrent callers).
    public func sync(_ p: Place) throws { try syncs[p]!.sync() }

    private static let tmpCounter = Counter()
    /// A fresh name in tmp/ for this process: never watched, so any name works.
    func tmpName(_ base: String) -> FileName {
        FileName("\(base).\(getpid())-\(Spool.tmpCounter.next()).tmp")
    }

    // MARK: Scratch files (see Claim.replace)

    /// A scratch name in tmp/ that no claim of this process is using.
    func takeScratch() -> FileName {
        scratch.withLock { $0.popLast() } ?? tmpName("scratch")
    }

    func returnScratch(_ name: FileName) {
        scratch.withLock { if $0.count < 256 { $0.append(name) } }
    }

    /// Opens a scratch file for rewriting, creating it when missing or not a plain file of ours.
    /// The descriptor comes back locked.
    func openScratch(_ name: FileName) throws -> Int32 {
        let tmpFD = fd(.tmp)
        var fd = name.withCString { openat(tmpFD, $0, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        if fd >= 0, FileOps.fstat(fd).map({ $0.kind != .regular || $0.links != 1 }) ?? true || !FileOps.tryLock(fd) {
            close(fd)
            _ = FileOps.unlink(tmpFD, name)
            fd = -1
        }
        if fd < 0 {
            fd = name.withCString { openat(tmpFD, $0, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640) }
            if fd < 0 { throw FileError("create tmp/\(name)") }
            _ = FileOps.tryLock(fd)
        }
        return fd
    }

    // MARK: Publish (protocol step 1)

    /// Writes `bytes` as `name` into `place`, durably and never over an existing file.
    /// Returns only after the file and the directory entry are on disk.
    public func publish(_ bytes: [UInt8], as name: String, to place: Place) throws {
        let tmp = tmpName(name)
        let fd = try FileOps.createDurable(self.fd(.tmp), tmp, bytes)
        close(fd)
        do {
            guard try FileOps.renameNoReplace(self.fd(.tmp), tmp, self.fd(place), FileName(name)) else {
                _ = FileOps.unlink(self.fd(.tmp), tmp)
                throw FileError("publish \(name) into \(place)", errno: EEXIST)
            }
        } catch {
            _ = FileOps.unlink(self.fd(.tmp), tmp)
            throw error
        }
        try sync(place)
    }

    /// Publishes a new job: refused while the disk guard is up.
    public func submit(_ job: Job, to place: Place = .incoming) throws {
        if let reason = DiskGuard.raisedReason(self) { throw DiskFull(message: reason) }
        var job = job
        job.next = place.path
        try publish(job.encoded(), as: job.id + ".json", to: place)
    }

    // MARK: Looking

    public func list(_ place: Place) throws -> [FileName] { try FileOps.list(fd(place)) }
    public func info(_ place: Place, _ name: FileName) -> EntryInfo? { FileOps.lstat(fd(place), name) }

    /// Reads a job file in place without claiming it (for status and listings).
    public func peek(_ place: Place, _ name: FileName) -> [UInt8]? {
        let fd = FileOps.openForReading(self.fd(place), name)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let info = FileOps.fstat(fd), info.kind == .regular, info.size <= Job.maxFileBytes else { return nil }
        return try? FileOps.readAll(fd, limit: Int(info.size))
    }

    /// Where a job with this id is now, if anywhere.
    public func locate(_ id: String) -> Place? {
        let name = FileName(id + ".json")
        // One pass looks at each place in turn, so a job renamed from one not yet seen to
        // one already passed (active/ back to its queue, a hand-on) is missed: a miss is
        // looked for again. A job is missing only when three passes agree.
        for _ in 0..<3 {
            for p in Place.all where p != .tmp && p != .quarantine {
                if FileOps.lstat(fd(p), name) != nil { return p }
            }
        }
        return nil
    }

    /// Deletes a finished job's file from done/ or failed/ (janitor only).
    public func remove(_ name: FileName, from place: Place) -> Bool { FileOps.removeTree(fd(place), name) }

    /// Deletes a file in tmp/ unless a live process holds it locked (a scratch file in use).
    public func removeTmpDebris(_ name: FileName) -> Bool {
        let fd = FileOps.openForReading(self.fd(.tmp), name)
        if fd >= 0 {
            defer { close(fd) }
            if !FileOps.tryLock(fd) { return false }
        }
        return FileOps.removeTree(self.fd(.tmp), name)
    }

    /// Deletes artifacts/<id>/ and everything in it without following links.
    public func removeArtifacts(_ id: String) -> Bool { FileOps.removeTree(artifactsFD, FileName(id)) }

    public func listArtifacts() throws -> [FileName] { try FileOps.list(artifactsFD) }
    public func artifactsInfo(_ name: FileName) -> EntryInfo? { FileOps.lstat(artifactsFD, name) }
}

/// Refusal of new work while the disk is nearly full.
public struct DiskFull: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

final class Counter: Sendable {
    private let value = Mutex<UInt64>(0)
    func next() -> UInt64 { value.withLock { $0 += 1; return $0 } }
}
