// DiskGuard: the janitor raises a marker file when the spool's filesystem runs
// low, and every writer of new work checks it. The marker holds the message
// that writers pass on to the person.
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

    /// The marker's message while it is raised.
    public static func raisedReason(_ spool: Spool) -> String? {
        let fd = FileOps.openForReading(spool.rootFD, marker)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let text = (try? FileOps.readAll(fd, limit: 4096)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return text.isEmpty ? "The server's disk is nearly full, so new work is refused for now. Try again in a few minutes." : text
    }

    /// Raises or lowers the marker from the free space now. Returns true when it changed.
    @discardableResult
    public static func update(_ spool: Spool, minFreeBytes: Int64) -> (raised: Bool, changed: Bool) {
        let free = freeBytes(spool) ?? Int64.max
        let isUp = raisedReason(spool) != nil
        // Lower only with some headroom, so the marker does not flap at the threshold.
        let (headroom, overflow) = minFreeBytes.addingReportingOverflow(minFreeBytes / 10)
        let shouldBeUp = isUp ? free < (overflow ? Int64.max : headroom) : free < minFreeBytes
        if shouldBeUp == isUp { return (isUp, false) }
        if shouldBeUp {
            let mb = free / (1 << 20)
            let msg = "The server's disk is nearly full (\(mb) MB free, at least \(minFreeBytes / (1 << 20)) MB needed), so new work is refused for now. Try again in a few minutes."
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
