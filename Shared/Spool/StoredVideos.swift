// StoredVideos: deleting a job's video wherever it is kept: its artifacts/<id>/ in
// the spool, `<state>/videos/<id>.*` once delivered, and the render-cache entries
// it was the last user of. The janitor deletes on its timetable and after a
// watch; ingest deletes on a person's /forget.
import MathreelCore
import MathreelSystem

/// The state's videos/ (`<state>/videos/<id>.<ext>`), listed at most once (on first
/// use) and indexed by the job id before the first dot.
public final class VideoIndex {
    public let path: String
    private(set) var directory: PlainDirectory?
    private var byID: [String: [FileName]]?

    public init(path: String) { self.path = path }

    /// The entries `<id>.*`, handed out once.
    public func take(_ id: String) -> [FileName] {
        if byID == nil {
            var index: [String: [FileName]] = [:]
            directory = PlainDirectory(path: path)
            for name in directory?.list() ?? [] {
                guard let s = name.string, let dot = s.firstIndex(of: "."), dot != s.startIndex else { continue }
                index[String(s[..<dot]), default: []].append(name)
            }
            byID = index
        }
        return byID?.removeValue(forKey: id) ?? []
    }
}

extension Spool {
    /// Deletes artifacts/<id>/, every `<id>.*` in `videos` and the cache entries no other job
    /// uses; returns the paths removed. The job's own copies go first: a crash after them
    /// leaves at most a cache entry, which the next release or the cache's lifetime takes.
    /// `keepingCode` leaves a lesson's scene code (`scene-N.py`, no video, no log) while the
    /// job's metadata lives, so a scene can be edited after the video is gone; the sweep of
    /// artifacts with no job takes it once the metadata expires.
    /// `keepingScenes` also leaves its scenes' own videos (MATHREEL_SCENE_KEEP_S: the janitor deletes them after that).
    public func deleteVideo(of id: String, _ videos: VideoIndex, _ cache: RenderCache, keepingCode: Bool = false, keepingScenes: Bool = false) -> [String] {
        var out: [String] = []
        if artifactsInfo(FileName(id)) != nil {
            if keepingCode, let dir = try? artifacts(id), dir.list().contains(where: Lesson.isCodeFile) {
                for name in dir.list() where !Lesson.isCodeFile(name) && !(keepingScenes && Lesson.isSceneVideo(name)) {
                    dir.remove(name)
                    out.append("artifacts/\(id)/\(name)")
                }
            } else if removeArtifacts(id) {
                out.append("artifacts/\(id)")
            }
        }
        for name in videos.take(id) where videos.directory?.remove(name) == true { out.append("\(videos.path)/\(name)") }
        return out + cache.release(id).map { cache.root + "/" + $0 }
    }
}
