// DirectoryWatcher (protocol step 5): the names in one spool directory as an
// AsyncSequence. The inotify watch is added before the first scan; a queue
// overflow, a timer (60 s) and young files seen by a scan cause rescans. Events
// are hints; the same name may come more than once, and consumers de-duplicate.
import MathreelCore
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

public struct DirectoryWatcher: AsyncSequence, Sendable {
    public typealias Element = [FileName]
    public let path: String
    public var rescanInterval: Double
    /// When set, a scan skips files modified less than this many seconds ago (a `cp`
    /// may still be writing) and looks again once they are old enough; their close
    /// event usually comes first.
    public var settle: Double?
    /// Called (on the watcher's thread) when the kernel dropped events and a rescan follows.
    public var onOverflow: @Sendable () -> Void = {}

    public init(path: String, rescanInterval: Double = 60, settle: Double? = nil) {
        self.path = path; self.rescanInterval = rescanInterval; self.settle = settle
    }

    public func makeAsyncIterator() -> AsyncThrowingStream<[FileName], Error>.Iterator {
        let (stream, continuation) = AsyncThrowingStream<[FileName], Error>.makeStream()
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            continuation.finish(throwing: FileError("create watcher pipe"))
            return stream.makeAsyncIterator()
        }
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC); _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
        let stopWrite = pipeFDs[1]
        let loop = WatchLoop(path: path, rescanInterval: rescanInterval, settle: settle,
                             stopFD: pipeFDs[0], continuation: continuation, onOverflow: onOverflow)
        do {
            try OSThread.start { loop.run(); close(stopWrite) }
        } catch {
            // No thread (a task limit): the watch ends with the error instead of the daemon.
            close(pipeFDs[0]); close(stopWrite)
            continuation.finish(throwing: error)
            return stream.makeAsyncIterator()
        }
        continuation.onTermination = { _ in
            var b: UInt8 = 1
            _ = write(stopWrite, &b, 1)
        }
        return stream.makeAsyncIterator()
    }
}

private final class WatchLoop: @unchecked Sendable {
    let path: String
    let rescanInterval: Double
    let settle: Double?
    let stopFD: Int32
    let continuation: AsyncThrowingStream<[FileName], Error>.Continuation
    let onOverflow: @Sendable () -> Void

    init(path: String, rescanInterval: Double, settle: Double?, stopFD: Int32,
         continuation: AsyncThrowingStream<[FileName], Error>.Continuation, onOverflow: @escaping @Sendable () -> Void) {
        self.path = path; self.rescanInterval = rescanInterval; self.settle = settle
        self.stopFD = stopFD; self.continuation = continuation; self.onOverflow = onOverflow
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func run() {
        defer { close(stopFD) }
        let ifd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard ifd >= 0 else {
            continuation.finish(throwing: FileError("inotify_init1 (raise fs.inotify.max_user_instances)"))
            return
        }
        defer { close(ifd) }
        // IN_CREATE only matters for what is not a regular file (a link, FIFO or
        // directory made in place); a regular file is taken at its close.
        let mask = UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE | IN_ONLYDIR)
        let dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { if dirfd >= 0 { close(dirfd) } }
        guard inotify_add_watch(ifd, path, mask) >= 0 else {
            continuation.finish(throwing: FileError("watch \(path) (raise fs.inotify.max_user_watches)"))
            return
        }
        var nextScan = WatchLoop.now() + rescanInterval
        var settleScan: Double? = scan(always: true)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let now = WatchLoop.now()
            let due = min(nextScan, settleScan ?? .infinity)
            if now >= due {
                settleScan = scan()
                nextScan = now + rescanInterval
                continue
            }
            var fds = [pollfd(fd: ifd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
            let timeout = Int32(min(max((due - now) * 1000, 1), 60_000))
            let rc = poll(&fds, 2, timeout)
            if rc < 0 && errno != EINTR {
                continuation.finish(throwing: FileError("poll \(path)"))
                return
            }
            if fds[1].revents != 0 { continuation.finish(); return }
            if fds[0].revents & Int16(POLLIN) != 0 {
                var names: [FileName] = []
                var overflow = false
                var created = false
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(ifd, $0.baseAddress!, $0.count) }
                    if n <= 0 { break }
                    buffer.withUnsafeBytes { raw in
                        var off = 0
                        let header = MemoryLayout<inotify_event>.size
                        while off + header <= n {
                            let ev = raw.loadUnaligned(fromByteOffset: off, as: inotify_event.self)
                            let len = Int(ev.len)
                            if ev.mask & UInt32(IN_Q_OVERFLOW) != 0 { overflow = true }
                            if ev.mask & UInt32(IN_IGNORED) != 0 {
                                continuation.finish(throwing: FileError("\(path) was removed or unmounted", errno: ENOENT))
                            }
                            if len > 0 {
                                let nameBytes = raw[(off + header)..<(off + header + len)].prefix { $0 != 0 }
                                let name = FileName(bytes: Array(nameBytes))
                                if name.isIgnored {
                                } else if ev.mask & UInt32(IN_CREATE) == 0 {
                                    names.append(name)
                                } else if let info = FileOps.lstat(dirfd, name) {
                                    // Made in place: a link, FIFO, directory or hard link is taken (and set
                                    // aside) now; a plain new file has a writer, or was linked in whole
                                    // (O_TMPFILE): look again once it has settled.
                                    if info.kind != .regular || info.links > 1 { names.append(name) } else { created = true }
                                }
                            }
                            off += header + len
                        }
                    }
                }
                if !names.isEmpty { continuation.yield(names) }
                if created {
                    let at = WatchLoop.now() + (settle ?? 2)
                    settleScan = min(settleScan ?? at, at)
                }
                if overflow {
                    onOverflow()
                    settleScan = scan()
                    nextScan = WatchLoop.now() + rescanInterval
                }
            }
        }
    }

    /// Lists the directory and yields its names; returns when to look again for young files.
    func scan(always: Bool = false) -> Double? {
        let dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0, let all = try? FileOps.list(dirfd) else {
            if dirfd >= 0 { close(dirfd) }
            if always { continuation.yield([]) }
            return nil
        }
        defer { close(dirfd) }
        var names: [FileName] = []
        names.reserveCapacity(all.count)
        var young = false
        let wall = Date().timeIntervalSince1970
        for name in all where !name.isIgnored {
            if let settle, let info = FileOps.lstat(dirfd, name), info.kind == .regular, info.mtime > wall - settle {
                young = true
                continue
            }
            names.append(name)
        }
        // The first scan always yields, so a consumer knows the directory has been read.
        if !names.isEmpty || always { continuation.yield(names) }
        return young ? WatchLoop.now() + (settle ?? 2) : nil
    }
}
