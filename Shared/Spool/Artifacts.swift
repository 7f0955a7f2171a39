// Artifacts: a job's artifacts/<id>/ directory (its code attempts, the render's
// code and log, the video and thumbnail until deliver stores them) as a handle
// the spool makes on demand. Names inside are the stages' own constants, never
// from a job file; every file is opened without following a link.
import MathreelCore
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

public struct Artifacts: Sendable {
    public let id: String
    /// artifacts/<id> under the spool root.
    public let path: String

    /// The path of the file `name` in it (for a child process or the render cache).
    public func file(_ name: String) -> String { path + "/" + name }

    /// A regular file's last `limit` bytes; empty when missing or not a regular file.
    public func tail(_ name: String, limit: Int) -> [UInt8] { PlainFile.tail(file(name), limit: limit) }

    /// Writes `name` anew (an earlier one is replaced; `exclusive` keeps it instead and throws).
    public func write(_ bytes: [UInt8], as name: String, exclusive: Bool = false) throws {
        try PlainFile.write(bytes, to: file(name), exclusive: exclusive)
    }

    /// Copies everything an open file holds to `name`, durably, in place of an earlier one.
    public func copy(fd: Int32, as name: String) throws {
        remove(name)
        try PlainFile.copy(fd: fd, to: file(name))
    }

    /// Removes `name` if it is there (an earlier attempt's file must not pass for this one's).
    public func remove(_ name: String) { _ = unlink(file(name)) }

    /// The size of `name` if it is a regular file.
    public func size(_ name: String) -> Int64? { PlainFile.regularSize(file(name)) }

    /// The names in it.
    public func list() -> [String] { (PlainDirectory(path: path)?.list() ?? []).compactMap(\.string) }
}

extension Spool {
    /// The job's artifacts directory, created if missing. `id` must be a job id (job
    /// reading checked it), so no name from a file reaches a path.
    public func artifacts(_ id: String) throws -> Artifacts {
        guard JobID.isValid(id) else { throw FileError("artifacts of \(id): not a job id", errno: EINVAL) }
        let path = root + "/artifacts/" + id
        guard mkdirat(artifactsFD, id, 0o770) == 0 || errno == EEXIST else { throw FileError("create \(path)") }
        return Artifacts(id: id, path: path)
    }
}
