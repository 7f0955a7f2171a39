// RenderCache: finished renders under <state>/render-cache/, keyed by SHA-256 of
// the checked code, the scene, quality, format and Manim version, so a repeat is
// served by linking files instead of rendering; and their lifetime. An entry
// lives only while a job that uses it has not been watched, expired or
// forgotten (`Spool.deleteVideo` releases the job), never longer than
// MATHREEL_RENDER_CACHE_TTL_S, and the entries together stay under
// MATHREEL_RENDER_CACHE_MAX_BYTES (oldest evicted first).
//
//   <key>/meta.json, video.*, thumbnail.jpg   a render; appears by one rename of a complete directory
//   <key>/users/<job id>                      each job that uses it, marked before its files are linked
//   jobs/<job id>/<key>                       the entries a job uses, so releasing it needs no scan
//   .staging-*, .gone-*                       being made; being removed (renamed away first)
// Every name is made from a job id and a hex key, never from what a job file says.
import MathreelCore
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

public struct RenderCache: Sendable {
    public let root: String
    /// No entry is served or kept longer than this after it was stored (seconds).
    public var ttl: Double
    /// What the entries may hold together (each file counted once however many entries link it).
    public var maxBytes: Int64
    /// A `.staging-*` this old belongs to a store that died.
    static let stagingAge: Double = 600

    public init(state: String, ttl: Double = 3_600, maxBytes: Int64 = 1 << 30) {
        root = state + "/render-cache"; self.ttl = ttl; self.maxBytes = maxBytes
    }

    public init(config: Config) {
        self.init(state: config.state, ttl: config.lifetimes.renderCache, maxBytes: config.renderCacheMaxBytes)
    }

    public static func key(code: String, scene: String, quality: Quality, format: VideoFormat, manim: String) -> String {
        SHA256.hex(Array("mathreel-render-1\n\(manim)\n\(quality.rawValue)\n\(format.rawValue)\n\(scene)\n".utf8) + Array(code.utf8))
    }

    static func isKey(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    // MARK: The renderer's side

    /// Puts a cached render's files into `dir` for job `id` and returns its stored metadata; nil on a miss.
    /// `renaming` gives a stored file another name in `dir` (a lesson's scene-N.mp4 is an entry's video.mp4).
    public func serve(_ key: String, for id: String, into dir: String, renaming: [String: String] = [:],
                      now: Double = RenderCache.now()) -> JSONObject? {
        guard RenderCache.isKey(key), JobID.isValid(id) else { return nil }
        let entry = root + "/" + key
        guard let (meta, stored) = RenderCache.read(entry + "/meta.json") else { return nil }
        guard now - stored <= ttl else { _ = drop(key); return nil }
        guard case .object(let render)? = try? JSONValue.parse(meta), case .array(let files)? = render["files"] else { return nil }
        // The job is a user before any file is linked: a release racing this either sees the
        // marker, or has already taken users/ away and this misses.
        guard index(id, key), PlainFile.touch(entry + "/users/" + id) else { return nil }
        for case .string(let name) in files {
            guard name.hasPrefix("video.") || name == "thumbnail.jpg", !name.contains("/") else { return nil }
            let mine = renaming[name] ?? name
            PlainFile.remove(dir + "/" + mine)
            if (try? PlainFile.linkOrCopy(entry + "/" + name, to: dir + "/" + mine)) == nil { return nil }
        }
        return render
    }

    /// Stores `files` from `dir` (links, so they share the job's bytes) with the render's
    /// metadata, job `id` its first user; then keeps the cache under its cap.
    /// `renaming` stores a file of `dir` under another name (what `serve` gets back).
    public func store(_ key: String, for id: String, from dir: String, files: [String], renaming: [String: String] = [:],
                      render: JSONObject, now: Double = RenderCache.now()) {
        guard RenderCache.isKey(key), JobID.isValid(id), PlainDirectory.makeIfMissing(root) else { return }
        let staging = ".staging-\(JobID.make())"
        let path = root + "/" + staging
        guard PlainDirectory.create(path, exclusive: true) else { return }
        var meta = render
        meta["files"] = .array(files.map { .string(renaming[$0] ?? $0) })
        var ok = files.allSatisfy { name in
            let stored = renaming[name] ?? name
            return !name.contains("/") && !stored.contains("/") && (try? PlainFile.linkOrCopy(dir + "/" + name, to: path + "/" + stored)) != nil
        }
        ok = ok && (try? PlainFile.write(JSONValue.object(meta).serialized(), to: path + "/meta.json", exclusive: true, sync: true)) != nil
        ok = ok && PlainDirectory.create(path + "/users", exclusive: true) && PlainFile.touch(path + "/users/" + id)
        // Indexed before it appears, so whatever a crash leaves, releasing the job finds it.
        ok = ok && index(id, key)
        // Another render of the same key may have won; either entry is as good.
        // Never over an entry of that key, not even an empty one a removal left.
        let dir = PlainDirectory(path: root)
        if !ok || dir?.rename(FileName(staging), to: FileName(key)) != true { dir?.remove(FileName(staging)) }
        _ = trim(now: now)
    }

    // MARK: Lifetime

    /// Job `id` no longer uses its entries: each one left with no user is removed. The keys removed.
    public func release(_ id: String) -> [String] {
        // Most jobs have no index (every sweep asks again for each job in done/): one open says so.
        guard JobID.isValid(id), let mine = PlainDirectory(path: root + "/jobs/" + id),
              let jobs = PlainDirectory(path: root + "/jobs") else { return [] }
        var removed: [String] = []
        for name in mine.list() {
            guard let key = name.string, RenderCache.isKey(key) else { continue }
            let entry = root + "/" + key
            PlainFile.remove(entry + "/users/" + id)
            // rmdir succeeds only when no job uses it any more; a serve after that finds no users/
            // and misses. An entry with no users/ at all is one whose release was cut short.
            if PlainDirectory.removeIfEmpty(entry + "/users"), drop(key) { removed.append(key) }
        }
        jobs.remove(FileName(id))
        return removed
    }

    /// The jobs the index names, with when each was last indexed (for the janitor's orphans).
    public func indexedJobs() -> [(id: String, mtime: Double)] {
        guard let jobs = PlainDirectory(path: root + "/jobs") else { return [] }
        return jobs.list().compactMap { name in
            guard let id = name.string, JobID.isValid(id), let info = jobs.info(name) else { return nil }
            return (id, info.mtime)
        }
    }

    /// Removes entries past the lifetime, then the oldest while the cache is over its cap, and
    /// debris of stores and removals that died. The keys removed, by why.
    public func trim(now: Double = RenderCache.now()) -> (expired: [String], full: [String]) {
        guard let dir = PlainDirectory(path: root) else { return ([], []) }
        var expired: [String] = []
        var kept: [(key: String, stored: Double, files: [(inode: UInt64, size: Int64)])] = []
        for name in dir.list() {
            guard let s = name.string else { continue }
            if s.hasPrefix(".gone-") || s.hasPrefix(".staging-") && (dir.info(name).map { now - $0.mtime > RenderCache.stagingAge } ?? false) {
                dir.remove(name)
                continue
            }
            guard RenderCache.isKey(s), let entry = PlainDirectory(path: root + "/" + s) else { continue }
            guard let meta = entry.info(FileName("meta.json")), meta.kind == .regular, now - meta.mtime <= ttl else {
                if drop(s) { expired.append(s) }
                continue
            }
            let files = entry.list().compactMap { n in entry.info(n).flatMap { $0.kind == .regular ? ($0.inode, $0.size) : nil } }
            kept.append((s, meta.mtime, files))
        }
        kept.sort { $0.stored < $1.stored }
        func total() -> Int64 {
            var seen = Set<UInt64>()
            return kept.reduce(0) { sum, e in e.files.reduce(sum) { seen.insert($1.inode).inserted ? $0 + $1.size : $0 } }
        }
        var full: [String] = []
        while !kept.isEmpty, total() > maxBytes {
            let e = kept.removeFirst()
            if drop(e.key) { full.append(e.key) }
        }
        return (expired, full)
    }

    // MARK: Helpers

    /// Renames the entry away (a serve now misses rather than read half of it), then removes it.
    func drop(_ key: String) -> Bool {
        let gone = ".gone-\(key)-\(JobID.make())"
        guard let dir = PlainDirectory(path: root), dir.rename(FileName(key), to: FileName(gone)) else { return false }
        dir.remove(FileName(gone))
        return true
    }

    func index(_ id: String, _ key: String) -> Bool {
        for dir in [root + "/jobs", root + "/jobs/" + id] where !PlainDirectory.create(dir, exclusive: false) { return false }
        return PlainFile.touch(root + "/jobs/\(id)/\(key)")
    }

    /// A small file's bytes and mtime, never through a link.
    static func read(_ path: String) -> ([UInt8], Double)? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let info = FileOps.fstat(fd), info.kind == .regular, let bytes = try? FileOps.readAll(fd, limit: 1 << 16),
              !bytes.isEmpty else { return nil }
        return (bytes, info.mtime)
    }

    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
