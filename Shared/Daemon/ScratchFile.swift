// ScratchFile: an unlinked temporary file for a child's input or output. Files,
// not pipes, so a child that prints without end can never block on a full pipe;
// the reader takes the head or the tail it needs.
import MathreelCore
#if canImport(Glibc)
import Glibc
#endif

/// An unlinked temporary file: written once, handed to a child, read back.
public final class ScratchFile: @unchecked Sendable {
    public let fd: Int32

    public init(contents: [UInt8] = []) throws {
        let dir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(dir)/mathreel-child-XXXXXX".utf8CString)
        fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        if fd < 0 { throw ChildError(description: "cannot create a temporary file in \(dir): \(String(cString: strerror(errno)))") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        var off = 0
        while off < contents.count {
            let n = contents.withUnsafeBytes { write(fd, $0.baseAddress! + off, contents.count - off) }
            if n <= 0 { break }
            off += n
        }
        lseek(fd, 0, SEEK_SET)
    }

    deinit { close(fd) }

    /// How many bytes it holds now.
    public var size: Int64 {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int64(st.st_size) : 0
    }

    /// The first `limit` bytes.
    public func read(limit: Int) -> [UInt8] {
        // Only as large as what is there: a big unused buffer would stay in the daemon's heap.
        var out = [UInt8](repeating: 0, count: Int(min(Int64(max(0, limit)), size)))
        // The buffer's own count, never `limit`: the file may have grown since fstat.
        let n = out.withUnsafeMutableBytes { $0.isEmpty ? 0 : pread(fd, $0.baseAddress!, $0.count, 0) }
        return Array(out.prefix(max(0, n)))
    }

    /// The last `limit` bytes (what a runaway writer printed last matters most).
    public func tail(limit: Int) -> [UInt8] {
        let size = Int(self.size)
        let start = max(0, size - max(0, limit))
        var out = [UInt8](repeating: 0, count: size - start)
        let n = out.withUnsafeMutableBytes { $0.isEmpty ? 0 : pread(fd, $0.baseAddress!, $0.count, off_t(start)) }
        return Array(out.prefix(max(0, n)))
    }
}
