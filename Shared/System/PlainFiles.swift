// PlainFile and PlainDirectory: files and directories outside the spool's queues
// (the state's videos, the render cache, a job's artifacts): written, copied,
// moved and removed without ever following a link.
import MathreelCore
#if canImport(Glibc)
import Glibc
#endif

/// A directory outside the spool (the state's `videos/`) that the janitor clears.
/// It is opened without following a link, and entries are removed the same way.
public final class PlainDirectory: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    /// nil when the directory is missing, or is a link or not a directory.
    public init?(path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Creates a directory and its parents (0770).
    public static func make(_ path: String) throws {
        var partial = path.hasPrefix("/") ? "" : "."
        for comp in path.split(separator: "/") {
            partial += "/" + comp
            if mkdir(partial, 0o770) != 0 && errno != EEXIST { throw FileError("create directory \(partial)") }
        }
    }

    /// Creates a directory and its parents; false when that fails.
    public static func makeIfMissing(_ path: String) -> Bool { (try? make(path)) != nil }

    /// Creates one directory (its parent must exist); `exclusive`: false when it exists already.
    public static func create(_ path: String, mode: mode_t = 0o750, exclusive: Bool) -> Bool {
        mkdir(path, mode) == 0 || (!exclusive && errno == EEXIST)
    }

    /// Removes a directory only if it is empty; true when it is gone (removed now, or absent).
    public static func removeIfEmpty(_ path: String) -> Bool { rmdir(path) == 0 || errno == ENOENT }

    /// Renames an entry of this directory to another name in it, never over an existing
    /// entry (an empty directory of that name included); false when the target exists or the source is gone.
    public func rename(_ from: FileName, to: FileName) -> Bool { (try? FileOps.renameNoReplace(fd, from, fd, to)) == true }

    public func list() -> [FileName] { (try? FileOps.list(fd)) ?? [] }
    public func info(_ name: FileName) -> EntryInfo? { FileOps.lstat(fd, name) }
    /// Removes a file, link or whole tree by name; a link is removed, never its target.
    @discardableResult
    public func remove(_ name: FileName) -> Bool {
        let ok = FileOps.removeTree(fd, name)
        _ = Glibc.fsync(fd)
        return ok
    }
}

/// Files by path, for places the spool's directory descriptors do not cover.
public enum PlainFile {
    /// `path` from the working directory, for paths kept in job files or shown to a person.
    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return path }
        let cwd = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var rest = path
        while rest.hasPrefix("./") { rest.removeFirst(2) }
        return rest == "." || rest.isEmpty ? cwd : cwd + "/" + rest
    }

    /// The size of a regular file, opened without following a link; nil for anything else.
    public static func regularSize(_ path: String) -> Int64? { regularInfo(path)?.size }

    /// A regular file's modification time (never through a link); nil for anything else.
    public static func mtime(_ path: String) -> Double? { regularInfo(path)?.mtime }

    static func regularInfo(_ path: String) -> EntryInfo? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let info = FileOps.fstat(fd), info.kind == .regular else { return nil }
        return info
    }

    /// The last `limit` bytes of a regular file (never through a link); empty when unreadable.
    public static func tail(_ path: String, limit: Int) -> [UInt8] {
        (try? read(path, last: Int64(limit))) ?? []
    }

    /// A regular file (never through a link), whole or its `last` bytes.
    public static func read(_ path: String, last: Int64? = nil) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open \(path)") }
        defer { close(fd) }
        guard let info = FileOps.fstat(fd), info.kind == .regular else { throw FileError("\(path) is not a regular file") }
        let count = min(last ?? info.size, info.size), start = info.size - count
        var out = [UInt8](repeating: 0, count: Int(count))
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(start) + off_t(done)) }
            guard n > 0 else { break }
            done += n
        }
        return Array(out.prefix(done))
    }

    /// Writes `bytes` as `path` (never through a link); `exclusive` refuses an existing file.
    public static func write(_ bytes: [UInt8], to path: String, exclusive: Bool = false, sync: Bool = false) throws {
        let flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
        let fd = open(path, flags, 0o640)
        guard fd >= 0 else { throw FileError("create \(path)") }
        defer { close(fd) }
        try FileOps.writeAll(fd, bytes)
        if sync { try FileOps.fsync(fd, path) }
    }

    /// Copies a regular file to a new name, durably.
    public static func copy(_ from: String, to: String) throws {
        let src = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard src >= 0 else { throw FileError("open \(from)") }
        defer { close(src) }
        try copy(fd: src, to: to)
    }

    /// Copies everything an open file holds (from its start) to a new name, durably.
    public static func copy(fd src: Int32, to: String) throws {
        let dst = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard dst >= 0 else { throw FileError("create \(to)") }
        defer { close(dst) }
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let n = buf.withUnsafeMutableBytes { pread(src, $0.baseAddress!, $0.count, offset) }
            if n == 0 { break }
            guard n > 0 else { throw FileError("read for \(to)") }
            try FileOps.writeAll(dst, Array(buf.prefix(n)))
            offset += off_t(n)
        }
        try FileOps.fsync(dst, to)
    }

    /// rename, or across filesystems a copy under a temporary name that is fsynced,
    /// read back and compared before it takes the name and the original goes. The
    /// target's directory is fsynced either way.
    public static func move(_ from: String, to: String) throws {
        if rename(from, to) == 0 { return syncDirectory(of: to) }
        guard errno == EXDEV else { throw FileError("move \(from)") }
        let partial = to + ".partial"
        _ = unlink(partial)
        try copy(from, to: partial)
        guard let a = digest(from), let b = digest(partial), a == b else {
            _ = unlink(partial)
            throw FileError("the copy of \(from) in \(to) does not match the original (left in place)")
        }
        guard rename(partial, to) == 0 else { _ = unlink(partial); throw FileError("move \(partial)") }
        syncDirectory(of: to)
        _ = unlink(from)
        syncDirectory(of: from)
    }

    /// The SHA-256 of a regular file, read to its end; nil when unreadable.
    public static func digest(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var hash = SHA256()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n == 0 { return hash.finalize() }
            guard n > 0 else { return nil }
            hash.update(buf.prefix(n))
        }
    }

    /// fsync of the directory holding `path`, so a rename into it survives a power cut.
    public static func syncDirectory(of path: String) {
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = Glibc.fsync(fd)
        close(fd)
    }

    /// Creates `path` as an empty file if it is missing (never through a link); false when it cannot.
    public static func touch(_ path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// Removes a file (a link itself, never its target); false when there was none.
    @discardableResult
    public static func remove(_ path: String) -> Bool { unlink(path) == 0 }

    /// A hard link where one filesystem allows it, else a copy.
    public static func linkOrCopy(_ from: String, to: String) throws {
        if link(from, to) == 0 { return }
        try copy(from, to: to)
    }
}
