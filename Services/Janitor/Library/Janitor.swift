// Janitor: applies every lifetime of the README's table to every spool directory, to the
// sessions and to the render cache, deletes a job's video (and the cache entries
// only it still used) the moment the job reaches done/ (and counts the success
// for its session), recovers orphan claims and keeps the disk guard in step with
// free space on the spool's and the state's filesystems. One sweep is one call,
// for tests.
import Logging
import MathreelCore
import MathreelSessions
import MathreelSpool
import MathreelSystem

/// Why something was deleted; the word goes into the log line's `reason`.
public enum DeletionReason: String, Sendable, Equatable {
    case videoAccessed = "video_accessed"
    case linkUnused = "link_unused"
    case doneExpired = "done_expired"
    case failedExpired = "failed_expired"
    case quarantineExpired = "quarantine_expired"
    case reasonWithoutFile = "reason_without_file"
    case tmpDebris = "tmp_debris"
    case artifactsWithoutJob = "artifacts_without_job"
    /// A render-cache entry older than MATHREEL_RENDER_CACHE_TTL_S.
    case cacheExpired = "render_cache_expired"
    /// Evicted, oldest first, to keep the cache under MATHREEL_RENDER_CACHE_MAX_BYTES.
    case cacheFull = "render_cache_full"
    /// Its last user is a job no longer anywhere in the spool.
    case cacheWithoutJob = "render_cache_without_job"
    /// A watched lesson's scene video kept for edits, past MATHREEL_SCENE_KEEP_S.
    case sceneKeepExpired = "scene_keep_expired"
}

public struct Deletion: Sendable, Equatable {
    /// Relative to the spool root, or absolute for the state's videos and render cache.
    public let path: String
    public let jobID: String?
    public let reason: DeletionReason
    public init(path: String, jobID: String?, reason: DeletionReason) {
        self.path = path; self.jobID = jobID; self.reason = reason
    }
}

public struct Expiration: Sendable, Equatable {
    public let jobID: String
    /// Where it waited: "codegen", "deferred/render", "ready", ...
    public let from: String
    public init(jobID: String, from: String) { self.jobID = jobID; self.from = from }
}

/// What one sweep did.
public struct SweepReport: Sendable {
    public var recovered: [Recovered] = []
    public var expired: [Expiration] = []
    public var deletions: [Deletion] = []
    /// Whether the disk guard is up after the sweep, and whether this sweep changed it.
    public var disk: (raised: Bool, changed: Bool) = (false, false)
    /// Sessions idle past their lifetime, deleted with their history.
    public var sessionsExpired = 0
    /// Jobs of forgotten people (/forget) cancelled now that no worker holds them.
    public var cancelled: [String] = []
    public var isEmpty: Bool {
        recovered.isEmpty && expired.isEmpty && deletions.isEmpty && !disk.changed && sessionsExpired == 0 && cancelled.isEmpty
    }
}

public struct Janitor: Sendable {
    public let spool: Spool
    public let config: Config
    public let logger: Logger
    /// artifacts/<id>/ with no job anywhere is removed once it is this old (a writer
    /// may create it a moment before the job file is published).
    public var orphanArtifactAge: Double = 600

    /// `<state>/sessions.sqlite`, shared with ingest; nil when it cannot be opened (logged).
    let sessions: SessionStore?

    public init(spool: Spool, config: Config, logger: Logger) {
        self.spool = spool; self.config = config; self.logger = logger
        do { sessions = try SessionStore(state: config.state) } catch {
            sessions = nil
            logger.error("cannot open the sessions database; sessions will not expire", metadata: ["state": "\(config.state)", "error": "\(error)"])
        }
    }

    var lifetimes: Lifetimes { config.lifetimes }
    /// Where delivery stores videos: `<state>/videos/<id>.<ext>`.
    public var videosPath: String { config.videosPath }
    /// `<state>/render-cache`, with its lifetime and size cap.
    public var cache: RenderCache { RenderCache(config: config) }

    // MARK: One sweep

    /// Applies every lifetime once. `now` is wall-clock seconds since 1970.
    @discardableResult
    public func sweep(now: Double = Date().timeIntervalSince1970) -> SweepReport {
        var report = SweepReport()
        report.disk = checkDisk()
        for place in Place.claimable {
            for r in spool.recoverOrphans(of: place, by: "janitor") {
                logger.warning("recovered a job left by a stopped worker",
                               metadata: ["job_id": "\(r.jobID ?? r.name)", "place": "\(r.queue.path)", "action": "\(r.action)"])
                report.recovered.append(r)
            }
        }
        cancelForgotten(into: &report)
        for stage in Stage.allCases { expireQueued(stage, now: now, into: &report) }
        for stage in Stage.allCases { expireDeferred(stage, now: now, into: &report) }
        expireReady(now: now, into: &report)
        let videos = VideoIndex(path: videosPath)
        // Backstop for the done/ watcher: no video outlives its job's arrival in done/.
        report.deletions += delivered(names(in: .done), videos)
        removeFinished(.done, ttl: lifetimes.done, reason: .doneExpired, now: now, videos: videos, into: &report)
        removeFinished(.failed, ttl: lifetimes.failed, reason: .failedExpired, now: now, videos: videos, into: &report)
        sweepQuarantine(now: now, into: &report)
        sweepTmp(now: now, into: &report)
        sweepArtifacts(now: now, into: &report)
        sweepKeptScenes(now: now, into: &report)
        sweepCache(now: now, into: &report)
        sweepSessions(now: now, into: &report)
        if !report.isEmpty {
            logger.info("swept", metadata: ["recovered": "\(report.recovered.count)", "expired": "\(report.expired.count)",
                                            "deleted": "\(report.deletions.count)", "sessions_expired": "\(report.sessionsExpired)", "cancelled": "\(report.cancelled.count)",
                                            "disk_guard": "\(report.disk.raised ? "raised" : "lowered")"])
        }
        return report
    }

    /// Raises or lowers the disk guard from the free space now, and logs a change.
    @discardableResult
    public func checkDisk() -> (raised: Bool, changed: Bool) {
        let threshold = config.minFreeBytes
        let result = DiskGuard.update(spool, state: config.state, minFreeBytes: threshold)
        guard result.changed else { return result }
        let low = DiskGuard.lowest(spool, state: config.state)
        let meta: Logger.Metadata = ["free_bytes": "\(low.map { "\($0.free)" } ?? "unknown")", "min_free_bytes": "\(threshold)",
                                     "filesystem": "\(low?.filesystem ?? "unknown")",
                                     "path": "\(low?.filesystem == "state" ? config.state : spool.root)"]
        if result.raised {
            logger.warning("disk guard raised: new work is refused until space returns",
                           metadata: meta.merging(["message": "\(DiskGuard.raisedReason(spool) ?? "")"]) { a, _ in a })
        } else {
            logger.info("disk guard lowered: new work is accepted again", metadata: meta)
        }
        return result
    }

    // MARK: done/: the video goes at once

    /// Deletes the videos of jobs that just arrived in done/ (the watcher's batches).
    @discardableResult
    public func videosAccessed(_ names: [FileName]) -> [Deletion] {
        delivered(names, VideoIndex(path: videosPath))
    }

    /// Jobs in done/: each video goes, and each success counts once for its session.
    func delivered(_ names: [FileName], _ videos: VideoIndex) -> [Deletion] {
        var out: [Deletion] = [], ids: [String] = []
        for name in names where !name.isIgnored {
            guard let id = jobID(in: .done, name) else { continue }
            ids.append(id)
            out += deleteVideo(of: id, reason: .videoAccessed, videos)
        }
        do { try sessions?.succeeded(jobIDs: ids) } catch {
            logger.warning("could not count deliveries in the sessions", metadata: ["jobs": "\(ids.count)", "error": "\(error)"])
        }
        return out
    }

    /// Deletes artifacts/<id>/, every `<state>/videos/<id>.*` and the cache entries only
    /// this job still used, logging each.
    /// After a watch or an unused link the job's metadata lives on, and with it a lesson's scene code (for edits).
    func deleteVideo(of id: String, reason: DeletionReason, _ videos: VideoIndex) -> [Deletion] {
        let keep = reason == .videoAccessed || reason == .linkUnused
        return spool.deleteVideo(of: id, videos, cache, keepingCode: keep, keepingScenes: keep && config.sceneKeep > 0)
            .map { logged(Deletion(path: $0, jobID: id, reason: reason)) }
    }

    // MARK: Forgotten jobs: what ingest's /forget found held by a worker

    private func cancelForgotten(into report: inout SweepReport) {
        guard let sessions, let ids = try? sessions.forgottenJobs(), !ids.isEmpty else { return }
        let videos = VideoIndex(path: videosPath), cache = self.cache
        for id in ids {
            let outcome = spool.cancel(id, by: "janitor", videos: videos, cache: cache) { Spool.forgotten(wasReady: $0) }
            switch outcome {
            case .busy: continue
            case .cancelled(let ready):
                report.cancelled.append(id)
                logger.info("forgotten job cancelled", metadata: ["job_id": "\(id)", "from": "\(ready ? "ready" : "a queue")"])
            case .finished:
                _ = cache.release(id)
            }
            try? sessions.settled(id)
        }
    }

    // MARK: Sessions: expired after MATHREEL_SESSION_TTL_S without activity

    private func sweepSessions(now: Double, into report: inout SweepReport) {
        guard let sessions else { return }
        do {
            report.sessionsExpired = try sessions.expire(idleSince: now - lifetimes.session)
            if report.sessionsExpired > 0 { logger.info("sessions expired", metadata: ["count": "\(report.sessionsExpired)", "reason": "session_idle"]) }
            // Update keys outlive the platforms' retries (days); counted deliveries outlive done/.
            try sessions.prune(before: now - max(8 * 86_400, lifetimes.done + 86_400))
        } catch {
            logger.warning("could not expire sessions", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Queues: expired after the queued lifetime

    private func expireQueued(_ stage: Stage, now: Double, into report: inout SweepReport) {
        let place = Place.queue(stage)
        for name in names(in: place) {
            // mtime is when the job entered this queue: every hand-on writes a new file.
            guard let info = spool.info(place, name), info.kind == .regular, now - info.mtime > lifetimes.queued,
                  isJob(place, name) else { continue }
            guard case .claimed(let claim) = spool.claim(name, from: place) else { continue }
            let message = stage == .ingest
                ? "This job waited more than \(Lifetimes.words(lifetimes.queued)) to be taken in, so it was stopped. Please send it again."
                : "This job waited more than \(Lifetimes.words(lifetimes.queued)) for the \(Janitor.stepWords(stage)) step, so it was stopped. Please send it again."
            expire(claim, error: JobError(stage: stage.rawValue, code: ErrorCode.expired, message: message), from: place.path, into: &report)
        }
    }

    private func expireDeferred(_ stage: Stage, now: Double, into report: inout SweepReport) {
        let place = Place.deferred(stage)
        for name in names(in: place) {
            // A deferred file's mtime is its next try, so its age is the job's own.
            guard let bytes = spool.peek(place, name), let job = try? Job.decode(bytes),
                  let created = job.createdDate, now - created.timeIntervalSince1970 > lifetimes.queued else { continue }
            guard case .claimed(let claim) = spool.claimDeferred(name, of: stage) else { continue }
            let message = "This job was still not finished \(Lifetimes.words(lifetimes.queued)) after it was sent (the \(Janitor.stepWords(stage)) step kept failing and was waiting to be tried again), so it was stopped. Please send it again."
            expire(claim, error: JobError(stage: stage.rawValue, code: ErrorCode.expired, message: message), from: place.path, into: &report)
        }
    }

    private func expireReady(now: Double, into report: inout SweepReport) {
        let videos = VideoIndex(path: videosPath)
        for name in names(in: .ready) {
            guard let info = spool.info(.ready, name), info.kind == .regular, now - info.mtime > lifetimes.ready,
                  isJob(.ready, name) else { continue }
            guard case .claimed(let claim) = spool.claim(name, from: .ready) else { continue }
            guard let job = try? claim.job() else { try? claim.putBack(); continue }
            // Video first: a crash after this leaves the job to be expired again, never a lost video.
            report.deletions += deleteVideo(of: job.id, reason: .linkUnused, videos)
            let message = "The link was not used within \(Lifetimes.words(lifetimes.ready)), so the video was deleted as promised. Send the problem again to get a new video."
            expire(claim, error: JobError(stage: Stage.deliver.rawValue, code: ErrorCode.expired, message: message), from: "ready", into: &report)
        }
    }

    private func expire(_ claim: Claim, error: JobError, from: String, into report: inout SweepReport) {
        guard let job = try? claim.job() else {
            try? claim.putBack()
            return
        }
        do {
            try claim.fail(job, error: error, by: "janitor", status: .expired)
            logger.notice("job expired", metadata: ["job_id": "\(job.id)", "reason": "expired", "from": "\(from)", "error": "\(error.message)"])
            report.expired.append(Expiration(jobID: job.id, from: from))
        } catch {
            logger.error("could not expire a job; recovery will finish it", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
            claim.finish()
        }
    }

    // MARK: done/ and failed/: deleted after their lifetimes

    private func removeFinished(_ place: Place, ttl: Double, reason: DeletionReason, now: Double, videos: VideoIndex, into report: inout SweepReport) {
        for name in names(in: place) {
            guard let info = spool.info(place, name), info.kind == .regular, now - info.mtime > ttl else { continue }
            let id = jobID(in: place, name)
            // Claimed first, so `mathreel retry` and the janitor never both act on one file.
            guard case .claimed(let claim) = spool.claim(name, from: place) else { continue }
            if spool.remove(claim.name, from: claim.active) {
                report.deletions.append(logged(Deletion(path: "\(place.path)/\(name)", jobID: id, reason: reason)))
            }
            claim.finish()
            if let id { report.deletions += deleteVideo(of: id, reason: reason, videos) }
        }
    }

    // MARK: quarantine/, tmp/, artifacts/

    private func sweepQuarantine(now: Double, into report: inout SweepReport) {
        let all = names(in: .quarantine, includeIgnored: true)
        let present = Set(all)
        let suffix = Array(".reason".utf8)
        for name in all {
            if name.bytes.count > suffix.count, Array(name.bytes.suffix(suffix.count)) == suffix {
                // A reason goes with its entry; alone (its entry never arrived), it goes by its own age.
                let entry = FileName(bytes: Array(name.bytes.dropLast(suffix.count)))
                guard !present.contains(entry), let info = spool.info(.quarantine, name), now - info.mtime > lifetimes.quarantine,
                      spool.remove(name, from: .quarantine) else { continue }
                report.deletions.append(logged(Deletion(path: "quarantine/\(name)", jobID: idPrefix(entry), reason: .reasonWithoutFile)))
                continue
            }
            let reasonName = FileName(bytes: name.bytes + suffix)
            // The reason was written as the entry arrived; the entry's own mtime may be much older.
            guard let info = spool.info(.quarantine, reasonName) ?? spool.info(.quarantine, name),
                  now - info.mtime > lifetimes.quarantine else { continue }
            if spool.remove(name, from: .quarantine) {
                report.deletions.append(logged(Deletion(path: "quarantine/\(name)", jobID: idPrefix(name), reason: .quarantineExpired)))
            }
            if spool.info(.quarantine, reasonName) != nil, spool.remove(reasonName, from: .quarantine) {
                report.deletions.append(logged(Deletion(path: "quarantine/\(reasonName)", jobID: idPrefix(name), reason: .quarantineExpired)))
            }
        }
        try? spool.sync(.quarantine)
    }

    private func sweepTmp(now: Double, into report: inout SweepReport) {
        for name in names(in: .tmp, includeIgnored: true) {
            guard let info = spool.info(.tmp, name), now - info.mtime > lifetimes.tmpDebris,
                  spool.removeTmpDebris(name) else { continue }
            report.deletions.append(logged(Deletion(path: "tmp/\(name)", jobID: idPrefix(name), reason: .tmpDebris)))
        }
    }

    private func sweepArtifacts(now: Double, into report: inout SweepReport) {
        guard let dir = PlainDirectory(path: spool.root + "/artifacts") else { return }
        for name in dir.list() {
            guard let info = dir.info(name), now - info.mtime > orphanArtifactAge else { continue }
            if let id = name.string, spool.locate(id) != nil { continue }
            if dir.remove(name) {
                report.deletions.append(logged(Deletion(path: "artifacts/\(name)", jobID: idPrefix(name), reason: .artifactsWithoutJob)))
            }
        }
    }

    /// Scene videos kept for edits (MATHREEL_SCENE_KEEP_S) of jobs that are finished, once older than that.
    private func sweepKeptScenes(now: Double, into report: inout SweepReport) {
        for place in [Place.done, .failed] {
            for name in names(in: place) {
                guard let id = jobID(in: place, name), spool.artifactsInfo(FileName(id)) != nil, let dir = try? spool.artifacts(id) else { continue }
                for file in dir.list() where Lesson.isSceneVideo(file) {
                    guard let mtime = PlainFile.mtime(dir.file(file)), now - mtime > config.sceneKeep else { continue }
                    dir.remove(file)
                    report.deletions.append(logged(Deletion(path: "artifacts/\(id)/\(file)", jobID: id, reason: .sceneKeepExpired)))
                }
            }
        }
    }

    /// The render cache: entries of jobs that are gone, past their lifetime, or over the cap.
    private func sweepCache(now: Double, into report: inout SweepReport) {
        let cache = self.cache
        for (id, mtime) in cache.indexedJobs() where now - mtime > orphanArtifactAge {
            if spool.locate(id) != nil { continue }
            for key in cache.release(id) {
                report.deletions.append(logged(Deletion(path: cache.root + "/" + key, jobID: id, reason: .cacheWithoutJob)))
            }
        }
        let trimmed = cache.trim(now: now)
        for key in trimmed.expired { report.deletions.append(logged(Deletion(path: cache.root + "/" + key, jobID: nil, reason: .cacheExpired))) }
        for key in trimmed.full { report.deletions.append(logged(Deletion(path: cache.root + "/" + key, jobID: nil, reason: .cacheFull))) }
    }

    // MARK: Helpers

    private func names(in place: Place, includeIgnored: Bool = false) -> [FileName] {
        ((try? spool.list(place)) ?? []).filter { includeIgnored || !$0.isIgnored }
    }

    /// Only files a stage wrote are expired here; anything else is the stage's to quarantine.
    private func isJob(_ place: Place, _ name: FileName) -> Bool {
        spool.peek(place, name).map { (try? Job.decode($0)) != nil } ?? false
    }

    /// The job id of a finished job's file: from its name, else from its content.
    private func jobID(in place: Place, _ name: FileName) -> String? {
        if let id = name.jobID { return id }
        return spool.peek(place, name).flatMap { try? Job.decode($0) }?.id
    }

    /// A job id at the start of a name (`<id>.json`, `<id>.json.<pid>-<n>.tmp`, `<id>`).
    private func idPrefix(_ name: FileName) -> String? {
        guard name.bytes.count >= 36, let s = String(validating: name.bytes.prefix(36), as: UTF8.self), JobID.isValid(s) else { return nil }
        return s
    }

    private func logged(_ d: Deletion) -> Deletion {
        logger.info("deleted", metadata: ["job_id": "\(d.jobID ?? "none")", "reason": "\(d.reason.rawValue)", "path": "\(d.path)"])
        return d
    }

    // MARK: Words for people

    static func stepWords(_ stage: Stage) -> String {
        switch stage {
        case .ingest: "intake"
        case .codegen: "code-writing"
        case .render: "rendering"
        case .deliver: "delivery"
        }
    }
}
