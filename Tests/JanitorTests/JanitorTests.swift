// Janitor tests: each lifetime of the README's table with short settings on a throwaway
// spool (one sweep, no loop), the disk guard, and the real daemon for the
// done/ watcher's latency and a clean exit on SIGTERM.
import Foundation
import JanitorService
import Logging
import MathreelCore
import MathreelDaemon
import MathreelSessions
import MathreelSpool
import MathreelSystem
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

// MARK: Helpers

/// Log lines a janitor wrote, for checking that deletions carry job_id and reason.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [(message: String, metadata: [String: String])] = []
    func append(_ message: String, _ metadata: [String: String]) { lock.lock(); _lines.append((message, metadata)); lock.unlock() }
    var lines: [(message: String, metadata: [String: String])] { lock.lock(); defer { lock.unlock() }; return _lines }
}

struct CapturingHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        capture.append(event.message.description, (event.metadata ?? [:]).mapValues { "\($0)" })
    }
}

/// A temporary spool and state with a janitor over them; `env` sets lifetimes.
struct Fixture {
    let dir = TempDir("mathreel-janitor")
    let spool: Spool
    let janitor: Janitor
    let logs = LogCapture()

    init(_ env: [String: String] = [:], orphanArtifactAge: Double = 600) throws {
        spool = try Spool(root: dir.spool)
        let config = try Config(environment: ["MATHREEL_SPOOL": dir.spool, "MATHREEL_STATE": dir.state].merging(env) { $1 })
        let capture = logs
        var janitor = Janitor(spool: spool, config: config, logger: Logger(label: "janitor") { _ in CapturingHandler(capture: capture) })
        janitor.orphanArtifactAge = orphanArtifactAge
        self.janitor = janitor
    }

    func path(_ place: Place, _ name: String) -> String { spool.path(place, name) }
    func exists(_ path: String) -> Bool { var st = stat(); return lstat(path, &st) == 0 }
    func exists(_ place: Place, _ id: String) -> Bool { exists(path(place, id + ".json")) }

    /// A fresh job published into `place` (its mtime: now).
    @discardableResult
    func job(in place: Place, createdAgo: Double = 0) throws -> Job {
        var job = Job(createdAt: Timestamp.string(Date().addingTimeInterval(-createdAgo)), kind: .problem,
                      problem: "Solve x^2 - 5x + 6 = 0", origin: JobOrigin(channel: .api))
        // A claimed file says the queue it came from, as a worker's claim would.
        if case .active(let queue) = place { job.next = queue.path } else { job.next = place.path }
        try spool.publish(job.encoded(), as: job.id + ".json", to: place)
        return job
    }

    /// artifacts/<id>/video.mp4 and <state>/videos/<id>.mp4, as a renderer and delivery leave them.
    func makeVideos(_ id: String) throws -> [String] {
        let artifacts = spool.artifactsPath(id)
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.state + "/videos", withIntermediateDirectories: true)
        let files = [artifacts + "/video.mp4", dir.state + "/videos/\(id).mp4"]
        for f in files { try Data("not really a video".utf8).write(to: URL(fileURLWithPath: f)) }
        return files
    }

    /// Read the job file in `place`.
    func read(_ place: Place, _ id: String) -> Job? {
        spool.peek(place, FileName(id + ".json")).flatMap { try? Job.decode($0) }
    }
}

/// Sets a path's mtime (not following a link) `seconds` into the past (negative: future).
func age(_ path: String, by seconds: Double) {
    let t = Date().timeIntervalSince1970 - seconds
    let ts = timespec(tv_sec: Int(t.rounded(.down)), tv_nsec: 0)
    var times = [ts, ts]
    let rc = utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
    precondition(rc == 0, "utimensat \(path): \(errno)")
}

func write(_ path: String, _ text: String = "x") throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

// MARK: Lifetimes, one sweep each

@Test func queuedJobsExpireAfterTheirLifetimeAndYoungOnesStay() throws {
    let f = try Fixture(["MATHREEL_QUEUED_TTL_S": "1"])
    var old: [String: Place] = [:]
    for place in [Place.incoming, .codegen, .render, .deliver] {
        let job = try f.job(in: place)
        age(f.path(place, job.id + ".json"), by: 10)
        old[job.id] = place
    }
    // Deferred: the age is the job's own (created_at); the mtime is its next try, in the future.
    let deferred = try f.job(in: .deferred(.render), createdAgo: 10)
    age(f.path(.deferred(.render), deferred.id + ".json"), by: -60)
    old[deferred.id] = .deferred(.render)
    let young = try f.job(in: .codegen)
    let youngDeferred = try f.job(in: .deferred(.codegen))
    age(f.path(.deferred(.codegen), youngDeferred.id + ".json"), by: -60)
    // What a person dropped is not a job yet: ingest decides, even when it is old.
    try write(f.path(.incoming, "mine.json"), #"{"problem": "Solve x + 1 = 2 for x"}"#)
    age(f.path(.incoming, "mine.json"), by: 10)

    let report = f.janitor.sweep()

    #expect(Set(report.expired.map(\.jobID)) == Set(old.keys))
    for (id, place) in old {
        #expect(!f.exists(place, id), "\(id) should have left \(place)")
        let job = try #require(f.read(.failed, id))
        #expect(job.status == .expired)
        #expect(job.error?.code == ErrorCode.expired)
        #expect(job.error?.message.contains("1 second") == true, "message: \(job.error?.message ?? "")")
        #expect(job.history.last?.by == "janitor")
    }
    #expect(f.read(.failed, deferred.id)?.error?.stage == "render")
    #expect(f.exists(.codegen, young.id))
    #expect(f.exists(.deferred(.codegen), youngDeferred.id))
    #expect(f.exists(f.path(.incoming, "mine.json")))
    // Nothing was left claimed.
    for place in Place.claimable { #expect(((try? f.spool.list(.active(place))) ?? []).isEmpty) }
}

@Test func anUnusedLinkExpiresAndItsVideoIsDeleted() throws {
    let f = try Fixture(["MATHREEL_READY_TTL_S": "1"])
    let old = try f.job(in: .ready)
    let oldVideos = try f.makeVideos(old.id)
    age(f.path(.ready, old.id + ".json"), by: 10)
    let young = try f.job(in: .ready)
    let youngVideos = try f.makeVideos(young.id)

    let report = f.janitor.sweep()

    #expect(report.expired == [Expiration(jobID: old.id, from: "ready")])
    for v in oldVideos { #expect(!f.exists(v), "\(v) should be deleted") }
    #expect(!f.exists(f.spool.artifactsPath(old.id)))
    let job = try #require(f.read(.failed, old.id))
    #expect(job.status == .expired && job.error?.code == ErrorCode.expired)
    #expect(job.error?.message.contains("not used within 1 second") == true)
    #expect(job.error?.message.contains("deleted") == true)
    #expect(f.exists(.ready, young.id))
    for v in youngVideos { #expect(f.exists(v)) }
}

@Test func doneMetadataIsDeletedAfterItsLifetime() throws {
    let f = try Fixture(["MATHREEL_DONE_TTL_S": "1"])
    let old = try f.job(in: .done)
    age(f.path(.done, old.id + ".json"), by: 10)
    let young = try f.job(in: .done)
    let youngVideos = try f.makeVideos(young.id)

    let report = f.janitor.sweep()

    #expect(!f.exists(.done, old.id))
    #expect(f.exists(.done, young.id))
    #expect(report.deletions.contains(Deletion(path: "done/\(old.id).json", jobID: old.id, reason: .doneExpired)))
    // The sweep is also a backstop for the watcher: a done job's video never stays.
    for v in youngVideos { #expect(!f.exists(v)) }
}

@Test func failedJobsAreDeletedAfterTheirLifetimeAndEachDeletionIsLogged() throws {
    let f = try Fixture(["MATHREEL_FAILED_TTL_S": "1"])
    let old = try f.job(in: .failed)
    let oldVideos = try f.makeVideos(old.id)
    age(f.path(.failed, old.id + ".json"), by: 10)
    let young = try f.job(in: .failed)

    f.janitor.sweep()

    #expect(!f.exists(.failed, old.id))
    for v in oldVideos { #expect(!f.exists(v)) }
    #expect(f.exists(.failed, young.id))
    let deleted = f.logs.lines.filter { $0.message == "deleted" }
    #expect(deleted.count == 3, "\(deleted)")
    for line in deleted {
        #expect(line.metadata["job_id"] == old.id)
        #expect(line.metadata["reason"] == "failed_expired")
    }
}

@Test func quarantineIsClearedAfterItsLifetimeWithoutFollowingLinks() throws {
    let f = try Fixture(["MATHREEL_QUARANTINE_TTL_S": "1"])
    let q = { (name: String) in f.path(.quarantine, name) }
    let outside = f.dir.path + "/precious.txt"
    try write(outside, "must survive")
    try FileManager.default.createDirectory(atPath: f.dir.path + "/precious-dir", withIntermediateDirectories: true)
    try write(f.dir.path + "/precious-dir/keep.txt")

    try write(q("junk.txt"), "not json")
    try write(q("junk.txt.reason"))
    try FileManager.default.createSymbolicLink(atPath: q("link.json"), withDestinationPath: outside)
    try write(q("link.json.reason"))
    try FileManager.default.createDirectory(atPath: q("adir") + "/inner", withIntermediateDirectories: true)
    try write(q("adir") + "/inner/file")
    try FileManager.default.createSymbolicLink(atPath: q("adir") + "/escape", withDestinationPath: f.dir.path + "/precious-dir")
    try write(q("adir.reason"))
    #expect(mkfifo(q("pipe"), 0o600) == 0)
    try write(q("gone.json.reason"))
    // An entry with no reason goes by its own (lstat) age.
    try FileManager.default.createSymbolicLink(atPath: q("bare-link"), withDestinationPath: outside)
    for name in ["junk.txt.reason", "link.json.reason", "adir.reason", "gone.json.reason", "pipe", "bare-link"] { age(q(name), by: 10) }
    // A young reason keeps its entry even when the entry's own mtime is old.
    try write(q("fresh.json"))
    age(q("fresh.json"), by: 1000)
    try write(q("fresh.json.reason"))

    let report = f.janitor.sweep()

    for name in ["junk.txt", "junk.txt.reason", "link.json", "link.json.reason", "adir", "adir.reason", "pipe", "gone.json.reason", "bare-link"] {
        #expect(!f.exists(q(name)), "\(name) should be deleted")
    }
    #expect(try String(contentsOfFile: outside, encoding: .utf8) == "must survive")
    #expect(f.exists(f.dir.path + "/precious-dir/keep.txt"))
    #expect(f.exists(q("fresh.json")) && f.exists(q("fresh.json.reason")))
    #expect(report.deletions.contains { $0.path == "quarantine/gone.json.reason" && $0.reason == .reasonWithoutFile })
}

@Test func tmpDebrisIsRemoved() throws {
    let f = try Fixture(["MATHREEL_TMP_TTL_S": "1"])
    let id = JobID.make()
    let debris = f.path(.tmp, "\(id).json.999-1.tmp")
    try write(debris)
    age(debris, by: 10)
    let fresh = f.path(.tmp, "\(JobID.make()).json.999-2.tmp")
    try write(fresh)

    let report = f.janitor.sweep()

    #expect(!f.exists(debris))
    #expect(f.exists(fresh))
    #expect(report.deletions == [Deletion(path: "tmp/\(id).json.999-1.tmp", jobID: id, reason: .tmpDebris)])
}

@Test func artifactsWithNoJobAreRemovedAndThoseOfALiveJobStay() throws {
    let f = try Fixture(orphanArtifactAge: 5)
    let live = try f.job(in: .render)
    _ = try f.makeVideos(live.id)
    let orphan = JobID.make()
    _ = try f.makeVideos(orphan)
    let youngOrphan = JobID.make()
    _ = try f.makeVideos(youngOrphan)
    for id in [live.id, orphan] { age(f.spool.artifactsPath(id), by: 60) }

    f.janitor.sweep()

    #expect(f.exists(f.spool.artifactsPath(live.id) + "/video.mp4"))
    #expect(!f.exists(f.spool.artifactsPath(orphan)))
    #expect(f.exists(f.spool.artifactsPath(youngOrphan)))
}

@Test func anOrphanClaimIsRecoveredToItsQueue() throws {
    let f = try Fixture()
    // A file in active/codegen that nobody holds a lock on: its worker died.
    let job = try f.job(in: .active(.codegen))

    let report = f.janitor.sweep()

    #expect(report.recovered.map(\.jobID) == [job.id])
    #expect(!f.exists(.active(.codegen), job.id))
    let back = try #require(f.read(.codegen, job.id))
    #expect(back.crashes["codegen"] == 1)
    #expect(f.logs.lines.contains { $0.message.contains("recovered") && $0.metadata["job_id"] == job.id })
}

@Test func theDiskGuardIsRaisedUnderTheThresholdAndLoweredWhenItIsMet() throws {
    let probe = try Fixture()
    let free = try #require(DiskGuard.freeBytes(probe.spool))
    let high = try Fixture(["MATHREEL_MIN_FREE_BYTES": "\(free + (1 << 40))"])

    let raised = high.janitor.sweep()

    #expect(raised.disk.raised && raised.disk.changed)
    let reason = try #require(DiskGuard.raisedReason(high.spool))
    #expect(reason.contains("disk is nearly full"))
    let job = Job(kind: .problem, problem: "Solve x^2 - 5x + 6 = 0", origin: JobOrigin(channel: .api))
    #expect(throws: DiskFull.self) { try high.spool.submit(job) }
    #expect(high.logs.lines.contains { $0.message.contains("disk guard raised") })

    let low = try Janitor(spool: high.spool, config: Config(environment: ["MATHREEL_MIN_FREE_BYTES": "0"]), logger: Logger(label: "janitor"))
    let lowered = low.checkDisk()
    #expect(!lowered.raised && lowered.changed)
    #expect(DiskGuard.raisedReason(high.spool) == nil)
    try high.spool.submit(job)
    #expect(high.exists(.incoming, job.id))
}

@Test func idleSessionsExpireAndADeliveryCountsOnceForItsSession() throws {
    let f = try Fixture(["MATHREEL_SESSION_TTL_S": "60"])
    let sessions = try SessionStore(state: f.dir.state)
    let now = Date().timeIntervalSince1970
    let idle = Person(channel: .telegram, id: "111"), active = Person(channel: .web, id: "abc")
    try sessions.touch(idle, now: now - 120)
    try sessions.record(idle, job: SessionJob(jobID: JobID.make(), createdAt: now - 120, kind: "problem", summary: "old"))
    try sessions.touch(idle, now: now - 120)
    let job = try f.job(in: .done)
    try sessions.record(active, job: SessionJob(jobID: job.id, createdAt: now - 30, kind: "problem", summary: "Solve x^2 - 5x + 6 = 0"))
    try sessions.take("telegram:update:1", jobID: nil, now: now - 30 * 86_400)
    try sessions.take("telegram:update:2", jobID: nil, now: now)

    // The watcher sees the job arrive; a sweep (the backstop) sees it again: one success.
    f.janitor.videosAccessed([FileName(job.id + ".json")])
    let report = f.janitor.sweep(now: now)
    #expect(report.sessionsExpired == 1)
    #expect(try sessions.session(idle) == nil && sessions.history(idle).isEmpty, "the idle session and its history are gone")
    #expect(try sessions.session(active)?.successes == 1)
    #expect(try sessions.history(active).map(\.jobID) == [job.id])
    #expect(try sessions.taken("telegram:update:1") == nil, "update keys older than the platforms' retries are forgotten")
    #expect(try sessions.taken("telegram:update:2") == "")
    #expect(f.logs.lines.contains { $0.message == "sessions expired" && $0.metadata["count"] == "1" })
    // A later activity keeps a session: nothing more expires.
    #expect(f.janitor.sweep(now: now + 20).sessionsExpired == 0)
}

/// A job a worker held when its person said /forget (so ingest could not take it) stays
/// marked: the first sweep after the worker lets go cancels it and deletes its video.
@Test func aForgottenJobHeldByAWorkerIsCancelledOnceLetGo() throws {
    let f = try Fixture()
    let sessions = try SessionStore(state: f.dir.state)
    let person = Person(channel: .telegram, id: "4242")
    let job = try f.job(in: .ready)
    let videos = try f.makeVideos(job.id)
    try sessions.record(person, job: SessionJob(jobID: job.id, createdAt: Date().timeIntervalSince1970, kind: "problem", summary: "x"))
    // A worker's claim, or a spawning child's copy of one: the file is locked.
    let fd = open(f.path(.ready, job.id + ".json"), O_RDONLY | O_CLOEXEC)
    #expect(fd >= 0 && flock(fd, LOCK_EX) == 0)
    #expect(try sessions.forget(person) == [job.id])

    #expect(f.janitor.sweep().cancelled.isEmpty, "a held job is left to its worker")
    #expect(f.exists(.ready, job.id))
    #expect(try sessions.forgottenJobs() == [job.id], "and stays marked")
    close(fd)

    #expect(f.janitor.sweep().cancelled == [job.id])
    for v in videos { #expect(!f.exists(v), "\(v) should be deleted") }
    let failed = try #require(f.read(.failed, job.id))
    #expect(failed.error?.code == ErrorCode.cancelled && failed.error?.message.contains("/forget") == true)
    #expect(try sessions.forgottenJobs().isEmpty, "a cancelled job's mark goes")
    #expect(f.logs.lines.contains { $0.message == "forgotten job cancelled" && $0.metadata["job_id"] == job.id })
}

/// A forgotten job that finished meanwhile (watched, or failed) needs nothing: its mark goes.
@Test func aForgottenJobThatFinishedIsOnlyUnmarked() throws {
    let f = try Fixture()
    let sessions = try SessionStore(state: f.dir.state)
    let person = Person(channel: .web, id: "abc")
    let job = try f.job(in: .done)
    try sessions.record(person, job: SessionJob(jobID: job.id, createdAt: Date().timeIntervalSince1970, kind: "problem", summary: "x"))
    _ = try sessions.forget(person)
    #expect(f.janitor.sweep().cancelled.isEmpty)
    #expect(f.exists(.done, job.id))
    #expect(try sessions.forgottenJobs().isEmpty)
}

@Test func lifetimesAreSaidInWords() {
    #expect(Lifetimes.words(3_600) == "1 hour")
    #expect(Lifetimes.words(86_400) == "24 hours")
    #expect(Lifetimes.words(7 * 86_400) == "7 days")
    #expect(Lifetimes.words(5_400) == "90 minutes")
    #expect(Lifetimes.words(0.2) == "0.2 seconds")
    #expect(Lifetimes.words(1) == "1 second")
}

// MARK: The daemon

/// The real `mathreel-janitor` over a fixture's spool, its stderr in a file.
final class RunningJanitor {
    let child: ChildProcess
    let logPath: String

    init(_ f: Fixture, env: [String: String] = [:]) throws {
        let daemon = try StartedDaemon.start("mathreel-janitor", f.dir, ["MATHREEL_JANITOR_INTERVAL_S": "3600", "MATHREEL_MIN_FREE_BYTES": "0"].merging(env) { $1 },
                                             log: "janitor.log")
        logPath = daemon.logPath
        child = daemon.child
    }

    deinit { if child.termination == nil { child.signalGroup(SIGKILL) } }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func waitReady() async -> Bool {
        await waitUntil(timeout: 10) { log.contains(#""msg":"ready""#) || child.termination != nil }
            && child.termination == nil
    }
}

@Test func aVideoIsDeletedWithinMillisecondsOfItsJobReachingDone() async throws {
    let f = try Fixture()
    // A job already in done/ when the janitor starts: the first scan takes its video.
    let before = try f.job(in: .done)
    let beforeVideos = try f.makeVideos(before.id)
    let janitor = try RunningJanitor(f)
    #expect(await janitor.waitReady(), "janitor did not become ready: \(janitor.log)")
    for v in beforeVideos { #expect(!f.exists(v)) }

    // A sweep is an hour away, so only the done/ watcher can delete this one.
    var job = Job(kind: .problem, problem: "Solve x^2 - 5x + 6 = 0", origin: JobOrigin(channel: .web))
    job.record(.delivered, by: "deliver")
    let videos = try f.makeVideos(job.id)
    let start = Date()
    try f.spool.publish(job.encoded(), as: job.id + ".json", to: .done)
    let gone = await waitUntil(timeout: 1, interval: 0.001) { videos.allSatisfy { !f.exists($0) } }
    let ms = Date().timeIntervalSince(start) * 1000
    print("done/ → video deleted in \(String(format: "%.1f", ms)) ms")
    #expect(gone, "video still there after \(Int(ms)) ms: \(janitor.log)")
    #expect(f.exists(.done, job.id), "the job's metadata stays in done/")
    #expect(await waitUntil(timeout: 1) { janitor.log.contains(#""reason":"video_accessed""#) && janitor.log.contains(job.id) })
    janitor.child.signal(SIGTERM)
    #expect(await janitor.child.wait(timeout: 5) == .exited(0))
}

@Test func theDaemonExitsCleanlySoonAfterSIGTERM() async throws {
    let f = try Fixture()
    let janitor = try RunningJanitor(f, env: ["MATHREEL_JANITOR_INTERVAL_S": "0.2"])
    #expect(await janitor.waitReady(), "janitor did not become ready: \(janitor.log)")
    try await Task.sleep(for: .milliseconds(300))
    let start = Date()
    janitor.child.signal(SIGTERM)
    let status = await janitor.child.wait(timeout: 5)
    #expect(status == .exited(0), "status: \(String(describing: status)); log: \(janitor.log)")
    print("janitor exited \(Int(Date().timeIntervalSince(start) * 1000)) ms after SIGTERM")
}

/// A watched lesson keeps its scene code with its metadata (for edits); its scene videos only
/// under MATHREEL_SCENE_KEEP_S, and only that long; everything else goes at once.
@Test(arguments: [0, 60])
func aWatchedLessonKeepsItsCodeAndItsScenesOnlyAsLongAsAsked(_ keep: Int) throws {
    let f = try Fixture(["MATHREEL_SCENE_KEEP_S": "\(keep)"])
    let job = try f.job(in: .done)
    let artifacts = f.spool.artifactsPath(job.id)
    _ = try f.makeVideos(job.id)
    for name in ["scene-1.py", "scene-2.py", "scene-1.mp4", "scene-2.mp4", "scene-1.log", "scene-12.py", "attempt-1.py"] {
        try Data("x".utf8).write(to: URL(fileURLWithPath: artifacts + "/" + name))
    }
    f.janitor.sweep()
    #expect(f.exists(artifacts + "/scene-1.py") && f.exists(artifacts + "/scene-2.py"), "the code stays with the metadata")
    for gone in ["video.mp4", "scene-1.log", "scene-12.py", "attempt-1.py"] { #expect(!f.exists(artifacts + "/" + gone), "\(gone)") }
    #expect(f.exists(artifacts + "/scene-1.mp4") == (keep > 0), "scene videos only when kept")
    // Past the keep, the janitor takes them; the code still stays.
    let report = f.janitor.sweep(now: Date().timeIntervalSince1970 + Double(keep) + 5)
    #expect(!f.exists(artifacts + "/scene-1.mp4") && !f.exists(artifacts + "/scene-2.mp4") && f.exists(artifacts + "/scene-1.py"))
    if keep > 0 { #expect(report.deletions.contains(Deletion(path: "artifacts/\(job.id)/scene-1.mp4", jobID: job.id, reason: .sceneKeepExpired))) }
}
