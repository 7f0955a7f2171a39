// LineForwarder: a pipe whose every line reappears on our stderr with a prefix
// ("ingest  | {...}"). A dedicated thread does the blocking reads, so a chatty
// daemon never stalls the supervisor and lines from many daemons never mix.
import Foundation
import MathreelDaemon
#if canImport(Glibc)
import Glibc
#endif

final class LineForwarder: @unchecked Sendable {
    let prefix: String
    /// Give this to children as stdout and stderr; close-on-exec in this process.
    let writeFD: Int32
    private let readFD: Int32
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var writerOpen = true
    static let maxLine = 64 * 1024

    /// Create every forwarder before starting any child: until fcntl marks the
    /// new descriptors close-on-exec, a concurrent spawn could inherit them.
    init(prefix: String) throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw ChildError(description: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        readFD = fds[0]
        writeFD = fds[1]
        self.prefix = prefix
        let thread = Thread { [self] in pump() }
        thread.name = "forward \(prefix)"
        thread.start()
    }

    private func pump() {
        var pending: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = buf.withUnsafeMutableBytes { read(readFD, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending.append(contentsOf: buf.prefix(n))
            while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                emit(pending[..<nl])
                pending.removeSubrange(...nl)
            }
            if pending.count > Self.maxLine {
                emit(pending[...])
                pending.removeAll()
            }
        }
        if !pending.isEmpty { emit(pending[...]) }
        close(readFD)
        done.signal()
    }

    private func emit(_ line: ArraySlice<UInt8>) {
        Out.err(prefix + String(decoding: line, as: UTF8.self))
    }

    /// Closes our write end and waits (at most `timeout`) until every line is out.
    func finish(timeout: Double) {
        lock.lock()
        if writerOpen { close(writeFD); writerOpen = false }
        lock.unlock()
        _ = done.wait(timeout: .now() + timeout)
    }
}
