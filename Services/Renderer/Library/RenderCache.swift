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
            if (try? PlainFile.linkOrCopy(entry + "/" + name, to: dir + "/" + name)) == nil { return nil }
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
        var ok = files.allSatisfy { (try? PlainFile.linkOrCopy(dir + "/" + $0, to: staging + "/" + $0)) != nil }
        ok = ok && (try? PlainFile.write(JSONValue.object(meta).serialized(), to: staging + "/meta.json", exclusive: true, sync: true)) != nil
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
}
