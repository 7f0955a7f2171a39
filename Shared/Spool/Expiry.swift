// Expiry primitives for the janitor: claiming a deferred job before it is due
// (to expire it), and clearing a directory outside the spool (the state's
// videos/) without ever following a link.
import MathreelCore
#if canImport(Glibc)
import Glibc
#endif

extension Spool {
    /// Claims `deferred/<stage>/<name>` before it is due, into `active/<queue>/` like any
    /// claim. The file still says `next: deferred/<stage>`, so if the claimer dies,
    /// recovery finishes that "hand-on" and the job simply goes back to waiting.
    public func claimDeferred(_ name: FileName, of stage: Stage) -> ClaimResult {
        claim(name, from: .queue(stage), source: .deferred(stage))
    }
}

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
