// The render cache's lifetime as the janitor keeps it: entries older than
// MATHREEL_RENDER_CACHE_TTL_S go, the cache stays under
// MATHREEL_RENDER_CACHE_MAX_BYTES (oldest first), an entry goes with the last
// job that uses it, and the disk guard watches the state's filesystem too.
import Foundation
import JanitorService
import Logging
import MathreelCore
import MathreelSpool
import MathreelSystem
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// An entry as the renderer leaves it, `bytes` of video, made `ago` seconds ago; its path.
func cacheEntry(_ f: Fixture, bytes: Int, ago: Double) throws -> String {
    let entry = f.dir.state + "/render-cache/" + SHA256.hex(Array(UUID().uuidString.utf8))
    try FileManager.default.createDirectory(atPath: entry, withIntermediateDirectories: true)
    var rng = SystemRandomNumberGenerator()
    try Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &rng) }).write(to: URL(fileURLWithPath: entry + "/video.mp4"))
    try write(entry + "/meta.json", #"{"duration_s": 1.0, "files": ["video.mp4"]}"#)
    for p in [entry + "/video.mp4", entry + "/meta.json", entry] { age(p, by: ago) }
    return entry
}

@Test func cacheEntriesOlderThanTheirLifetimeAreRemoved() throws {
    let f = try Fixture(["MATHREEL_RENDER_CACHE_TTL_S": "60"])
    let old = try cacheEntry(f, bytes: 1000, ago: 120)
    let young = try cacheEntry(f, bytes: 1000, ago: 1)

    let report = f.janitor.sweep()

    #expect(!f.exists(old), "an entry past its lifetime goes, used or not")
    #expect(f.exists(young + "/video.mp4"))
    #expect(report.deletions.contains { $0.path.hasSuffix(String(old.suffix(64))) && $0.reason == .cacheExpired })
}

@Test func theCacheIsKeptUnderItsSizeCapOldestFirst() throws {
    let f = try Fixture(["MATHREEL_RENDER_CACHE_MAX_BYTES": "2500"])
    let oldest = try cacheEntry(f, bytes: 1000, ago: 300)
    let middle = try cacheEntry(f, bytes: 1000, ago: 200)
    let newest = try cacheEntry(f, bytes: 1000, ago: 100)

    let report = f.janitor.sweep()

    #expect(!f.exists(oldest), "the oldest entry is evicted first")
    #expect(f.exists(middle + "/video.mp4") && f.exists(newest + "/video.mp4"), "no more than needed")
    #expect(report.deletions.contains { $0.path.hasSuffix(String(oldest.suffix(64))) && $0.reason == .cacheFull })
}

/// A job's render stored in the cache and served to a second job, as the renderer does.
@Test func aCacheEntryGoesWithTheLastJobThatUsesIt() throws {
    let f = try Fixture()
    let cache = RenderCache(state: f.dir.state)
    let first = try f.job(in: .ready), second = try f.job(in: .ready)
    let files = try f.makeVideos(first.id)
    let key = SHA256.hex(Array("the checked code".utf8))
    cache.store(key, for: first.id, from: f.spool.artifactsPath(first.id), files: ["video.mp4"], render: ["duration_s": .double(1.5)])
    let served = f.spool.artifactsPath(second.id)
    try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
    #expect(cache.serve(key, for: second.id, into: served)?["duration_s"] == .double(1.5))
    try FileManager.default.moveItem(atPath: served + "/video.mp4", toPath: f.dir.state + "/videos/\(second.id).mp4")

    // The first is watched: the second still needs the entry.
    try f.spool.publish(first.encoded(), as: first.id + ".json", to: .done)
    f.janitor.videosAccessed([FileName(first.id + ".json")])
    for file in files { #expect(!f.exists(file)) }
    #expect(f.exists(cache.root + "/\(key)/video.mp4"))
    // The second is watched too: nothing of the render remains.
    try f.spool.publish(second.encoded(), as: second.id + ".json", to: .done)
    let deletions = f.janitor.videosAccessed([FileName(second.id + ".json")])
    #expect(!f.exists(cache.root + "/\(key)"))
    #expect(deletions.contains { $0.path == cache.root + "/\(key)" && $0.reason == .videoAccessed })
    let left = (FileManager.default.enumerator(atPath: cache.root)?.allObjects as? [String]) ?? []
    #expect(left == ["jobs"], "no entry, index or marker is left: \(left)")
    // A third job asking for it now misses and renders afresh.
    #expect(cache.serve(key, for: JobID.make(), into: served) == nil)
}

@Test func anIndexOfAJobThatIsGoneIsReleasedBySweep() throws {
    let f = try Fixture(orphanArtifactAge: 0)
    let cache = RenderCache(state: f.dir.state)
    let gone = JobID.make()
    _ = try f.makeVideos(gone)
    let key = SHA256.hex(Array("code of a job that vanished".utf8))
    cache.store(key, for: gone, from: f.spool.artifactsPath(gone), files: ["video.mp4"], render: [:])
    age(cache.root + "/jobs/\(gone)", by: 60)

    f.janitor.sweep()

    #expect(!f.exists(cache.root + "/\(key)"), "no job in the spool uses it any more")
    #expect(!f.exists(cache.root + "/jobs/\(gone)"))
}

@Test func theDiskGuardWatchesTheStatesFilesystemToo() throws {
    // Two filesystems: the test's /tmp and the tmpfs of /dev/shm; the fuller one holds the state.
    func made(_ base: String) -> String {
        var t = Array("\(base)/mathreel-disk-XXXXXX".utf8CString)
        return t.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!).map { String(cString: $0) } } ?? ""
    }
    let a = made("/tmp"), b = made("/dev/shm")
    defer { for d in [a, b] where !d.isEmpty { try? FileManager.default.removeItem(atPath: d) } }
    try #require(!a.isEmpty && !b.isEmpty, "no /dev/shm here")
    var sa = stat(), sb = stat()
    try #require(stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev != sb.st_dev, "/tmp and /dev/shm are one filesystem here")
    func free(_ p: String) -> Int64 { var s = statvfs(); _ = statvfs(p, &s); return Int64(s.f_bavail) * Int64(s.f_frsize) }
    let (state, spoolDir) = free(a) < free(b) ? (a, b) : (b, a)
    let threshold = (free(a) + free(b)) / 2
    let spool = try Spool(root: spoolDir + "/spool")
    let logs = LogCapture()
    let config = try Config(environment: ["MATHREEL_SPOOL": spoolDir + "/spool", "MATHREEL_STATE": state + "/state",
                                          "MATHREEL_MIN_FREE_BYTES": "\(threshold)"])
    try FileManager.default.createDirectory(atPath: state + "/state", withIntermediateDirectories: true)
    let janitor = Janitor(spool: spool, config: config, logger: Logger(label: "janitor") { _ in CapturingHandler(capture: logs) })

    let report = janitor.sweep()

    #expect(report.disk.raised, "the spool has room, the state has not")
    #expect(DiskGuard.raisedReason(spool)?.contains("where videos are stored") == true, "\(DiskGuard.raisedReason(spool) ?? "")")
    #expect(logs.lines.contains { $0.message.contains("disk guard raised") && $0.metadata["filesystem"] == "state" })
}
