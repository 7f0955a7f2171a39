// RenderCache: finished renders kept under <state>/render-cache/<key>/, keyed by
// SHA-256 of the checked code, the scene, quality, format and Manim version, so
// a repeat is served by linking files instead of rendering. An entry appears by
// one rename of a complete directory; a half-written one is never seen.
import MathreelCore
import MathreelSpool
#if canImport(Glibc)
import Glibc
#endif

public struct RenderCache: Sendable {
    public let root: String

    public init(state: String) { root = state + "/render-cache" }

    public static func key(code: String, scene: String, quality: Quality, format: VideoFormat, manim: String) -> String {
        SHA256.hex(Array("mathreel-render-1\n\(manim)\n\(quality.rawValue)\n\(format.rawValue)\n\(scene)\n".utf8) + Array(code.utf8))
    }

    /// Puts a cached render's files into `dir` and returns its stored metadata; nil on a miss.
    public func serve(_ key: String, into dir: String) -> JSONObject? {
        let entry = root + "/" + key
        guard let meta = read(entry + "/meta.json"), case .object(let render)? = try? JSONValue.parse(meta),
              case .array(let files)? = render["files"] else { return nil }
        for case .string(let name) in files {
            guard name.hasPrefix("video.") || name == "thumbnail.jpg" else { return nil }
            _ = unlink(dir + "/" + name)
            if link(entry + "/" + name, dir + "/" + name) != 0 && !copy(entry + "/" + name, to: dir + "/" + name) { return nil }
        }
        return render
    }

    /// Stores `files` from `dir` with the render's metadata (copies, so the job's own files can go).
    public func store(_ key: String, from dir: String, files: [String], render: JSONObject) {
        guard Spool.makeDirectoriesIfMissing(root) else { return }
        let staging = root + "/.staging-\(JobID.make())"
        guard mkdir(staging, 0o750) == 0 else { return }
        var meta = render
        meta["files"] = .array(files.map(JSONValue.string))
        var ok = files.allSatisfy { link(dir + "/" + $0, staging + "/" + $0) == 0 || copy(dir + "/" + $0, to: staging + "/" + $0) }
        ok = ok && write(JSONValue.object(meta).serialized(), to: staging + "/meta.json")
        // Another render of the same key may have won; either entry is as good.
        if !ok || rename(staging, root + "/" + key) != 0 {
            for f in files + ["meta.json"] { _ = unlink(staging + "/" + f) }
            _ = rmdir(staging)
        }
    }

    private func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: 1 << 16)
        let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        return n > 0 ? Array(out.prefix(n)) : nil
    }

    private func write(_ bytes: [UInt8], to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
        return n == bytes.count && fsync(fd) == 0
    }

    /// A plain copy, for when the state and the spool are on different filesystems.
    private func copy(_ from: String, to: String) -> Bool {
        let src = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard src >= 0 else { return false }
        defer { close(src) }
        let dst = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard dst >= 0 else { return false }
        defer { close(dst) }
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(src, $0.baseAddress!, $0.count) }
            if n == 0 { return fsync(dst) == 0 }
            if n < 0 || buf.withUnsafeBytes({ Glibc.write(dst, $0.baseAddress!, n) }) != n { return false }
        }
    }
}
