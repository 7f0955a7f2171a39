// DiskGuard: the janitor raises a marker file when the spool's or the state's
// filesystem runs low (whichever has less room), and every writer of new work
// checks it. The marker holds the message that writers pass on to the person.
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

public enum DiskGuard {
    static let marker = FileName("disk-full")

    /// The free bytes on the spool's filesystem available to unprivileged writers.
    public static func freeBytes(_ spool: Spool) -> Int64? {
        var s = statvfs()
        guard fstatvfs(spool.rootFD, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// The same for the filesystem holding `path`.
    public static func freeBytes(path: String) -> Int64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// The lower free space of the spool's and the state's filesystems, and which one it is
    /// ("spool" or "state"); nil when neither can be asked.
    public static func lowest(_ spool: Spool, state: String?) -> (free: Int64, filesystem: String)? {
        var low = freeBytes(spool).map { (free: $0, filesystem: "spool") }
        if let state, let free = freeBytes(path: state), free < low?.free ?? .max { low = (free, "state") }
        return low
    }

    /// The marker's message while it is raised.
    public static func raisedReason(_ spool: Spool) -> String? {
        let fd = FileOps.openForReading(spool.rootFD, marker)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let text = (try? FileOps.readAll(fd, limit: 4096)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return text.isEmpty ? "The server's disk is nearly full, so new work is refused for now. Try again in a few minutes." : text
    }

    /// The spool's filesystem alone (the janitor watches the state's too).
    @discardableResult
    public static func update(_ spool: Spool, minFreeBytes: Int64) -> (raised: Bool, changed: Bool) {
        update(spool, state: nil, minFreeBytes: minFreeBytes)
    }

    /// Raises or lowers the marker from the free space now, on the spool's filesystem and on
    /// the state's (`state`, when given). Returns true when it changed.
    @discardableResult
    public static func update(_ spool: Spool, state: String?, minFreeBytes: Int64) -> (raised: Bool, changed: Bool) {
        let low = lowest(spool, state: state)
        let free = low?.free ?? Int64.max
        let isUp = raisedReason(spool) != nil
        // Lower only with some headroom, so the marker does not flap at the threshold.
        let (headroom, overflow) = minFreeBytes.addingReportingOverflow(minFreeBytes / 10)
        let shouldBeUp = isUp ? free < (overflow ? Int64.max : headroom) : free < minFreeBytes
        if shouldBeUp == isUp { return (isUp, false) }
        if shouldBeUp {
            let mb = free / (1 << 20)
            let place = low?.filesystem == "state" ? "where videos are stored" : "where jobs are queued"
            let msg = "The server's disk is nearly full (\(mb) MB free \(place), at least \(minFreeBytes / (1 << 20)) MB needed), so new work is refused for now. Try again in a few minutes."
            _ = FileOps.unlink(spool.rootFD, marker)
            try? spool.publishInRoot(Array(msg.utf8), as: marker)
        } else {
            _ = FileOps.unlink(spool.rootFD, marker)
            _ = fsync(spool.rootFD)
        }
        return (shouldBeUp, true)
    }
}

extension Spool {
    func publishInRoot(_ bytes: [UInt8], as name: FileName) throws {
        let tmp = tmpName("marker")
        let fd = try FileOps.createDurable(self.fd(.tmp), tmp, bytes)
        close(fd)
        try FileOps.renameReplacing(self.fd(.tmp), tmp, rootFD, name)
        try FileOps.fsync(rootFD, "spool root")
    }
}
