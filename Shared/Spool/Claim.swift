// Claim: a job file held by one worker (protocol steps 2, 3 and 6). Taking it is
// a locked rename into active/; letting go is exactly one of handOn, postpone
// (deferral with backoff), fail, quarantine or putBack. Nothing else moves a claimed file.
// `markAlone` records a suspect's solo turn in the file, for recovery to count.
import CMathreel
import Logging
import MathreelCore
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

public enum ClaimResult: Sendable {
    case claimed(Claim)
    /// Another worker took it, or it is gone.
    case lost
    /// Locked by a claimer right now, or a file of the same name is in work: try later.
    case busy
    /// Not a job file (a link, FIFO, directory, device, hard link or oversized file): set aside.
    case quarantined(reason: String)
}

/// Exponential backoff with jitter, and how many tries a stage gets.
public struct Backoff: Sendable {
    public var maxTries: Int
    public var base: Double
    public var cap: Double
    public init(maxTries: Int = 3, base: Double = 5, cap: Double = 600) {
        self.maxTries = maxTries; self.base = base; self.cap = cap
    }
    /// Delay before try `n + 1` after `n` failed tries: base·2^(n-1), jittered ±50 %.
    public func delay(afterTries n: Int) -> Double {
        let raw = min(cap, base * pow(2, Double(max(0, n - 1))))
        return raw * Double.random(in: 0.5...1.5)
    }
}

extension Spool {
    /// Claims `name` from a queue: lock it, then rename it into active/ (protocol step 2).
    /// `activeName` renames it on the way (ingest gives a person's file its job id);
    /// `source` takes it from elsewhere than the queue itself (the janitor expiring
    /// a job in deferred/<stage>/ claims it as that stage's).
    /// `untilClosed` leaves a file alone while a writer still holds it open (a `cp` in progress).
    public func claim(_ name: FileName, from queue: Place, as activeName: FileName? = nil, source: Place? = nil,
                      untilClosed: Bool = false) -> ClaimResult {
        let qfd = fd(source ?? queue)
        guard let first = FileOps.lstat(qfd, name) else { return .lost }
        if first.kind != .regular {
            return quarantineEntry(name, in: source ?? queue, reason: "it is \(first.kind.words), not a regular file; mathreel never follows links or opens special files")
        }
        let fd = FileOps.openForReading(qfd, name)
        if fd < 0 {
            if errno == ENOENT { return .lost }
            if errno == ELOOP { return quarantineEntry(name, in: source ?? queue, reason: "it is a symbolic link, not a regular file; mathreel never follows links") }
            // Unreadable stays unreadable: set aside with the reason, not tried again every second forever.
            if errno == EACCES || errno == EPERM {
                return quarantineEntry(name, in: source ?? queue, reason: "mathreel may not read it (permission denied); make it readable by the mathreel user (chmod 0644, or chown mathreel) and drop it again")
            }
            return .busy
        }
        guard let info = FileOps.fstat(fd), info.kind == .regular else {
            close(fd)
            return quarantineEntry(name, in: source ?? queue, reason: "it is not a regular file")
        }
        guard FileOps.tryLock(fd) else { close(fd); return .busy }
        if untilClosed && mr_open_for_writing(fd) == 1 { close(fd); return .busy }
        let target = activeName ?? name
        let moved: Bool
        do { moved = try FileOps.renameNoReplace(qfd, name, self.fd(.active(queue)), target) } catch {
            close(fd)
            return .lost
        }
        guard moved else { close(fd); return .busy }
        // The inode we locked must be the one we moved; a swap in between is left to recovery.
        guard let now = FileOps.lstat(self.fd(.active(queue)), target), now.inode == info.inode else {
            close(fd)
            return .lost
        }
        let claim = Claim(spool: self, queue: queue, name: target, originalName: name, fd: fd, info: info)
        if info.links > 1 {
            try? claim.quarantine(reason: "it is a hard link to another file; drop a copy of the job file instead")
            return .quarantined(reason: "hard link")
        }
        if info.size > Int64(Job.maxFileBytes) {
            let reason = "it is too large (\(info.size) bytes); a job file is at most \(Job.maxFileBytes / 1024) KB"
            try? claim.quarantine(reason: reason)
            return .quarantined(reason: reason)
        }
        do { claim.bytes = try FileOps.readAll(fd, limit: Int(info.size)) } catch {
            try? claim.putBack()
            return .busy
        }
        return .claimed(claim)
    }

    /// Claims the job with `id` from `place` by its id: a queue, ready/, failed/, done/, or
    /// a deferred/ (claimed before it is due into its stage's active/, like any claim).
    public func claimJob(_ id: String, from place: Place) -> ClaimResult {
        let name = FileName(id + ".json")
        if case .deferred(let stage) = place { return claimDeferred(name, of: stage) }
        return claim(name, from: place)
    }

    /// Claims `deferred/<stage>/<name>` before it is due, into `active/<queue>/` like any
    /// claim. The file still says `next: deferred/<stage>`, so if the claimer dies,
    /// recovery finishes that "hand-on" and the job simply goes back to waiting.
    public func claimDeferred(_ name: FileName, of stage: Stage) -> ClaimResult {
        claim(name, from: .queue(stage), source: .deferred(stage))
    }

    /// Takes hold of a file already in active/ whose worker is gone (for recovery).
    func adopt(_ name: FileName, in queue: Place) -> Claim? {
        let afd = fd(.active(queue))
        guard let first = FileOps.lstat(afd, name) else { return nil }
        let fd = FileOps.openForReading(afd, name)
        guard fd >= 0, let info = FileOps.fstat(fd), info.inode == first.inode else {
            if fd >= 0 { close(fd) }
            return nil
        }
        guard FileOps.tryLock(fd) else { close(fd); return nil }
        let claim = Claim(spool: self, queue: queue, name: name, originalName: name, fd: fd, info: info)
        if info.kind == .regular, info.size <= Int64(Job.maxFileBytes) {
            claim.bytes = (try? FileOps.readAll(fd, limit: Int(info.size))) ?? []
        }
        return claim
    }

    /// Moves a directory entry that is not a job into quarantine/ with its reason.
    func quarantineEntry(_ name: FileName, in place: Place, reason: String) -> ClaimResult {
        do {
            return try moveToQuarantine(name, from: place, originalName: name, reason: reason) ? .quarantined(reason: reason) : .lost
        } catch {
            return .busy
        }
    }

    /// Writes `<q>.reason` first, then renames the entry to `quarantine/<q>`: a crash
    /// in between leaves a reason with no file (the janitor clears it), never the reverse.
    func moveToQuarantine(_ name: FileName, from place: Place, originalName: FileName, reason: String) throws -> Bool {
        let base = Spool.quarantineName(for: originalName)
        for attempt in 0..<8 {
            let qname = attempt == 0 ? base : "\(base)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
            if FileOps.lstat(fd(.quarantine), FileName(qname)) != nil { continue }
            let text = """
                mathreel set this file aside at \(Timestamp.string()).
                It arrived as: \(place.path == "active/ingest" ? "incoming" : place.path)/\(originalName)
                Why: \(reason)
                What to do: fix it and drop it into incoming/ again (write it elsewhere, then mv it in). \
                This copy and this note are deleted after the quarantine lifetime (7 days by default).

                """
            do { try publish(Array(text.utf8), as: qname + ".reason", to: .quarantine) } catch let e as FileError where e.errno == EEXIST { continue }
            if try FileOps.renameNoReplace(fd(place), name, fd(.quarantine), FileName(qname)) {
                try sync(.quarantine)
                try sync(place)
                return true
            }
            _ = FileOps.unlink(fd(.quarantine), FileName(qname + ".reason"))
            if FileOps.lstat(fd(place), name) == nil { return false }
        }
        throw FileError("find a free name in quarantine for \(originalName)", errno: EEXIST)
    }

    /// A name a person can recognise, safe in any shell: unusual bytes become '_'.
    static func quarantineName(for name: FileName) -> String {
        var s = String(decoding: name.bytes.prefix(120).map { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x2D || b == 0x5F ? b : 0x5F
        }, as: UTF8.self)
        if s.isEmpty || s.hasPrefix(".") { s = "_" + s }
        if s.hasSuffix(".reason") || s.hasSuffix(".tmp") { s += "_" }
        return s
    }
}

public final class Claim: @unchecked Sendable {
    public let spool: Spool
    /// The queue it was claimed from; the file now sits in `.active(queue)`.
    public let queue: Place
    public let name: FileName
    /// The name it had in the queue (differs from `name` for a person's file in incoming/).
    public let originalName: FileName
    public let info: EntryInfo
    public internal(set) var bytes: [UInt8] = []
    private var lockedFDs: [Int32]
    private var usedScratch: [FileName] = []
    /// The content before `markAlone`, which a put-back restores.
    private var unmarked: [UInt8]?
    public private(set) var isFinished = false

    init(spool: Spool, queue: Place, name: FileName, originalName: FileName, fd: Int32, info: EntryInfo) {
        self.spool = spool; self.queue = queue; self.name = name; self.originalName = originalName
        self.info = info; self.lockedFDs = [fd]
    }

    deinit { finish() }

    public var active: Place { .active(queue) }
    public var path: String { spool.path(active, name.description) }

    /// The claimed file as a job written by a stage.
    public func job() throws -> Job { try Job.decode(bytes) }

    /// Lets go of the locks; the claim is over.
    public func finish() {
        unlock()
        // Only now, unlocked, may the swapped-out inodes serve as scratch files again.
        for s in usedScratch { spool.returnScratch(s) }
        usedScratch = []
        isFinished = true
    }

    /// Replaces the claimed file's content atomically, keeping it locked throughout.
    /// The new content is written into a scratch file in tmp/ that is then swapped
    /// with the claimed name (RENAME_EXCHANGE); the old inode becomes the next
    /// scratch file. Reusing inodes matters: creating and freeing one per hand-on
    /// makes ext4 scan ever more recently freed inodes on every create.
    func replace(with bytes: [UInt8], mtime: Double? = nil) throws {
        let tmpFD = spool.fd(.tmp), activeFD = spool.fd(active)
        let scratch = spool.takeScratch()
        let fd = try spool.openScratch(scratch)
        // Lock the new content's inode before it takes the name, so no instant shows an unlocked file.
        lockedFDs.append(fd)
        do {
            try FileOps.rewriteDurable(fd, bytes, mtime: mtime, what: "tmp/\(scratch)")
            if try FileOps.renameExchange(tmpFD, scratch, activeFD, name) {
                usedScratch.append(scratch)
            } else {
                try FileOps.renameReplacing(tmpFD, scratch, activeFD, name)
            }
        } catch {
            _ = FileOps.unlink(tmpFD, scratch)
            throw error
        }
        self.bytes = bytes
    }

    private func unlock() {
        for fd in lockedFDs { close(fd) }
        lockedFDs = []
    }

    /// Moves the (already rewritten) file on, never over an existing one. False: the target exists.
    func move(to place: Place, as target: FileName) throws -> Bool {
        guard try FileOps.renameNoReplace(spool.fd(active), name, spool.fd(place), target) else { return false }
        // Out of active/ it is the next holder's: unlocked at once, so a claim the moment it
        // appears (the watch site's, a /forget) is not turned away for the fsyncs below,
        // which only make the rename durable (a crash before them leaves it for recovery).
        unlock()
        spool.afterRename.withLock { $0 }?(place, target)
        try spool.sync(active)
        try spool.sync(place)
        return true
    }

    /// Rewrites the claimed job in place, still locked and still here, so a reader
    /// sees a long step's progress (a lesson's scenes as they finish). A crash after
    /// it leaves this version in active/, which recovery returns like any claim.
    public func checkpoint(_ job: Job) throws {
        precondition(!isFinished, "claim already let go")
        try replace(with: job.encoded())
    }

    /// `checkpoint` as a step's progress callback: one that cannot be written is logged and
    /// changes nothing of the step's result.
    public func progress(_ logger: Logger) -> @Sendable (Job) -> Void {
        { job in
            do { try self.checkpoint(job) } catch { logger.warning("a job's progress could not be written", metadata: ["job_id": "\(job.id)", "error": "\(error)"]) }
        }
    }

    /// Protocol step 3: record where the job goes, then rename it there.
    public func handOn(_ job: Job, to place: Place, mtime: Double? = nil) throws {
        precondition(!isFinished, "claim already let go")
        guard Moves.allows(from: queue, to: place) else { throw MoveRefused(from: queue, to: place) }
        var job = job
        job.next = place.path
        try replace(with: job.encoded(), mtime: mtime)
        if try !move(to: place, as: FileName(job.id + ".json")) {
            _ = try spool.moveToQuarantine(name, from: active, originalName: originalName,
                                           reason: "a job with id \(job.id) is already in \(place.path)/; this second copy was set aside")
        }
        finish()
    }

    /// Protocol step 6: a retryable failure. Defers with backoff, or fails when the tries run out.
    /// Returns where the job went.
    @discardableResult
    public func postpone(_ job: Job, error: JobError, stage: Stage, backoff policy: Backoff = Backoff(), by: String) throws -> Place {
        var job = job
        let tries = Job.raised(job.attempts[stage.rawValue] ?? 0)
        job.attempts[stage.rawValue] = tries
        if tries >= policy.maxTries {
            try fail(job, error: error, by: by, note: "gave up after \(tries) tries")
            return .failed
        }
        let delay = policy.delay(afterTries: tries)
        job.history.append(HistoryEntry(status: job.status.rawValue, by: by,
                                        note: "try \(tries) of \(policy.maxTries) failed (\(error.code): \(error.message)); next try in \(Int(delay.rounded())) s"))
        try handOn(job, to: .deferred(stage), mtime: Date().timeIntervalSince1970 + delay)
        return .deferred(stage)
    }

    /// The job ends in failed/ with an error the person is told.
    public func fail(_ job: Job, error: JobError, by: String, note: String? = nil, status: JobStatus = .failed) throws {
        var job = job
        job.error = error
        job.record(status, by: by, note: note ?? "\(error.code): \(error.message)")
        try handOn(job, to: .failed)
    }

    /// The file is not a job: set it aside with a reason a person can read.
    public func quarantine(reason: String) throws {
        precondition(!isFinished, "claim already let go")
        _ = try spool.moveToQuarantine(name, from: active, originalName: originalName, reason: reason)
        finish()
    }

    /// Marks the claimed file as in its solo turn at this queue (`"alone": "<stage>"`):
    /// a death from now until the claim lets go is the job's own (see Recovery).
    /// Every hand-on drops the mark (the job reader knows the field and never keeps it).
    func markAlone() throws {
        precondition(!isFinished, "claim already let go")
        guard case .object(var object) = try JSONValue.parse(bytes) else { throw FileError("mark \(name) to run alone: not a JSON object", errno: EINVAL) }
        object["alone"] = .string(Spool.crashKey(queue))
        let original = bytes
        try replace(with: JSONValue.object(object).serialized())
        unmarked = original
    }

    /// Puts the file back in its queue as it was claimed (shutdown with work not
    /// started or abandoned); a solo turn's mark is taken off first.
    public func putBack() throws {
        precondition(!isFinished, "claim already let go")
        if let original = unmarked {
            try replace(with: original)
            unmarked = nil
        }
        if try !move(to: queue, as: name) {
            // A file of this name arrived meanwhile; leave ours in active/ for recovery.
        }
        finish()
    }
}
