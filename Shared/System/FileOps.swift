// FileOps: the raw POSIX calls behind the spool and the plain-file helpers, each
// checked and named in its error. Daemons use the spool verbs and PlainFile, not these.
import CMathreel
import MathreelCore
#if canImport(Glibc)
import Glibc
#endif

/// A directory entry's name as the kernel has it: raw bytes, never re-encoded, so a
/// name that is not UTF-8 (or holds a newline) can still be renamed away.
public struct FileName: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    public init(_ s: String) { bytes = Array(s.utf8) }
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Printable form for logs and reason files: anything unusual escaped.
    public var description: String {
        var out = ""
        for b in bytes {
            switch b {
            case 0x20...0x7E where b != UInt8(ascii: "\\"): out.unicodeScalars.append(UnicodeScalar(b))
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0x0A: out += "\\n"
            default: out += "\\x" + String(b >> 4, radix: 16) + String(b & 0xF, radix: 16)
            }
        }
        return out
    }
    /// Names the watchers skip: editors' and writers' temporary files.
    public var isIgnored: Bool {
        bytes.first == UInt8(ascii: ".") || bytes.isEmpty || (bytes.count >= 4 && bytes.suffix(4) == Array(".tmp".utf8))
    }
    public var string: String? { String(validating: bytes, as: UTF8.self) }
    /// "<id>.json" → id.
    public var jobID: String? {
        guard let s = string, s.hasSuffix(".json") else { return nil }
        let id = String(s.dropLast(5))
        return JobID.isValid(id) ? id : nil
    }
    package func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (bytes + [0]).withUnsafeBufferPointer { buf in
            try buf.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }
}

public struct FileError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let errno: Int32
    public init(_ operation: String, errno e: Int32 = Glibc.errno) { self.operation = operation; self.errno = e }
    public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}

/// What lstat says a directory entry is.
public enum EntryKind: Sendable, Equatable {
    case regular, directory, symlink, fifo, socket, device, missing
    package init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symlink
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        default: self = .device
        }
    }
    public var words: String {
        switch self {
        case .regular: "a regular file"
        case .directory: "a directory"
        case .symlink: "a symbolic link"
        case .fifo: "a named pipe (FIFO)"
        case .socket: "a socket"
        case .device: "a device file"
        case .missing: "missing"
        }
    }
}

public struct EntryInfo: Sendable {
    public let kind: EntryKind
    public let size: Int64
    public let mtime: Double
    public let inode: UInt64
    public let links: UInt64
    package init(_ st: stat) {
        kind = EntryKind(mode: st.st_mode)
        size = Int64(st.st_size)
        mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        inode = UInt64(st.st_ino)
        links = UInt64(st.st_nlink)
    }
}

package enum FileOps {
    package static func lstat(_ dirfd: Int32, _ name: FileName) -> EntryInfo? {
        var st = stat()
        let rc = name.withCString { fstatat(dirfd, $0, &st, AT_SYMLINK_NOFOLLOW) }
        return rc == 0 ? EntryInfo(st) : nil
    }

    package static func fstat(_ fd: Int32) -> EntryInfo? {
        var st = stat()
        return Glibc.fstat(fd, &st) == 0 ? EntryInfo(st) : nil
    }

    /// Opens an entry for reading without following a link or blocking on a FIFO.
    package static func openForReading(_ dirfd: Int32, _ name: FileName) -> Int32 {
        name.withCString { openat(dirfd, $0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
    }

    package static func openDirectory(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw FileError("open directory \(path)") }
        return fd
    }

    package static func fsync(_ fd: Int32, _ what: @autoclosure () -> String) throws {
        // A failed fsync is never retried: the kernel may have dropped the dirty pages.
        if Glibc.fsync(fd) != 0 { throw FileError("fsync \(what())") }
    }

    package static func tryLock(_ fd: Int32) -> Bool { flock(fd, LOCK_EX | LOCK_NB) == 0 }

    /// Reads at most `limit` bytes from the start of the file.
    package static func readAll(_ fd: Int32, limit: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: limit)
        var got = 0
        while got < limit {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, limit - got, off_t(got)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("read")
            }
            if n == 0 { break }
            got += n
        }
        out.removeSubrange(got...)
        return out
    }

    package static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("write")
            }
            off += n
        }
    }

    /// Creates a new file exclusively, writes it, sets its mtime if asked, fsyncs it.
    /// Returns the open descriptor (the caller locks or closes it).
    package static func createDurable(_ dirfd: Int32, _ name: FileName, _ bytes: [UInt8], mtime: Double? = nil) throws -> Int32 {
        let fd = name.withCString { openat(dirfd, $0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o640) }
        if fd < 0 { throw FileError("create \(name)") }
        do {
            try writeAll(fd, bytes)
            try setTimes(fd, mtime, what: name.description)
            try fsync(fd, name.description)
            return fd
        } catch {
            close(fd)
            _ = name.withCString { unlinkat(dirfd, $0, 0) }
            throw error
        }
    }

    /// Rewrites an open file from the start: truncate, write, due time, fsync.
    package static func rewriteDurable(_ fd: Int32, _ bytes: [UInt8], mtime: Double?, what: String) throws {
        if ftruncate(fd, 0) != 0 { throw FileError("truncate \(what)") }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + off, bytes.count - off, off_t(off)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("write \(what)")
            }
            off += n
        }
        try setTimes(fd, mtime, what: what)
        try fsync(fd, what)
    }

    package static func setTimes(_ fd: Int32, _ mtime: Double?, what: String) throws {
        guard let mtime else { return }
        let due = timespec(tv_sec: Int(mtime.rounded(.down)), tv_nsec: Int((mtime - mtime.rounded(.down)) * 1e9))
        var times = [due, due]
        if futimens(fd, &times) != 0 { throw FileError("set due time on \(what)") }
    }

    /// Swaps two names atomically; false when the filesystem cannot (EINVAL).
    package static func renameExchange(_ aDir: Int32, _ a: FileName, _ bDir: Int32, _ b: FileName) throws -> Bool {
        let rc = a.withCString { x in b.withCString { y in mr_rename_exchange(aDir, x, bDir, y) } }
        if rc == 0 { return true }
        if errno == EINVAL || errno == ENOSYS { return false }
        throw FileError("exchange \(a) with \(b)")
    }

    /// rename without replacing: false when the target exists (EEXIST).
    package static func renameNoReplace(_ fromDir: Int32, _ from: FileName, _ toDir: Int32, _ to: FileName) throws -> Bool {
        let rc = from.withCString { f in to.withCString { t in mr_rename_noreplace(fromDir, f, toDir, t) } }
        if rc == 0 { return true }
        if errno == EEXIST { return false }
        throw FileError("rename \(from) to \(to)")
    }

    /// rename over an existing name: only for replacing a claimed file's content.
    package static func renameReplacing(_ fromDir: Int32, _ from: FileName, _ toDir: Int32, _ to: FileName) throws {
        let rc = from.withCString { f in to.withCString { t in renameat(fromDir, f, toDir, t) } }
        if rc != 0 { throw FileError("rename \(from) over \(to)") }
    }

    package static func unlink(_ dirfd: Int32, _ name: FileName, directory: Bool = false) -> Bool {
        name.withCString { unlinkat(dirfd, $0, directory ? AT_REMOVEDIR : 0) } == 0
    }

    /// The names in a directory, skipping "." and "..".
    package static func list(_ dirfd: Int32) throws -> [FileName] {
        let dup = Glibc.dup(dirfd)
        guard dup >= 0, let dir = fdopendir(dup) else { throw FileError("list directory") }
        defer { closedir(dir) }
        rewinddir(dir)
        var out: [FileName] = []
        // Read the name through a pointer: a dirent record is often shorter than the
        // struct, so copying `pointee` can read past the end of readdir's buffer.
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let ent = readdir(dir) {
            let start = UnsafeRawPointer(ent).advanced(by: nameOffset).assumingMemoryBound(to: UInt8.self)
            let name = Array(UnsafeBufferPointer(start: start, count: strlen(UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self))))
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            out.append(FileName(bytes: name))
        }
        return out
    }

    /// Removes a file or a whole directory tree below dirfd without following any link.
    package static func removeTree(_ dirfd: Int32, _ name: FileName) -> Bool {
        guard let info = lstat(dirfd, name) else { return true }
        if info.kind != .directory { return unlink(dirfd, name) }
        let fd = name.withCString { openat(dirfd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        if fd >= 0 {
            defer { close(fd) }
            for child in (try? list(fd)) ?? [] { _ = removeTree(fd, child) }
        }
        return unlink(dirfd, name, directory: true)
    }
}
