// FileBody: a byte range of a stored video written straight from the file.
// Reads with pread into buffers of the writer's own allocator and skips
// NIOFileSystem's thread-pool hops: the files are small, local and mostly in the
// page cache, and the hops cost more than the reads.
import Glibc
import Hummingbird
import MathreelCore
import MathreelSpool
import MathreelSystem

enum FileBody {
    static let chunk = 256 << 10

    /// Writes `range` of the file at `path`; returns how many bytes went out.
    static func send(_ path: String, range: ClosedRange<Int64>, to writer: inout any ResponseBodyWriter) async throws -> Int {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open \(path)") }
        defer { close(fd) }
        var offset = range.lowerBound, wrote = 0
        let end = range.upperBound + 1
        // One buffer per response, cleared and refilled: it is unique again once the
        // channel has written it, so the refill allocates nothing.
        var buffer = ByteBufferAllocator().buffer(capacity: Int(min(Int64(chunk), end - offset)))
        while offset < end {
            let want = Int(min(Int64(chunk), end - offset))
            buffer.clear()
            let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw in
                max(0, pread(fd, raw.baseAddress!, want, off_t(offset)))
            }
            guard got > 0 else { break }
            try await writer.write(buffer)
            offset += Int64(got); wrote += got
        }
        return wrote
    }
}
