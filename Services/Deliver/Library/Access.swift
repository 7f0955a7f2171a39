// AccessLedger: when a link has been used up (the README's lifetimes). Access completes when the
// bytes served for a link cover the whole file (one full transfer, however the
// player split it into ranges), or when the grace after the first byte runs out.
// Completing moves the job from ready/ to done/ (status delivered), where the
// janitor deletes the video at once, and then marks the link gone, so every
// route of its token answers 410.
import Logging
import MathreelCore
import MathreelSpool
import ServiceLifecycle

public actor AccessLedger {
    let spool: Spool
    let store: LinkStore
    let logger: Logger
    /// Quiet time after the player's bytes covered the file; a download completes at once.
    let settle: Double
    /// Served byte ranges per live link, merged; in memory (after a restart the grace still applies).
    private var served: [String: [ClosedRange<Int64>]] = [:]
    private var firstByteSeen: Set<String> = []
    /// Bodies being written now, and when the last one began or ended, per link.
    private var inFlight: [String: Int] = [:]
    private var lastActivity: [String: Double] = [:]
    private var settling: Set<String> = []
    private let bell = Doorbell()

    public init(spool: Spool, store: LinkStore, logger: Logger, settle: Double = 30) {
        self.spool = spool; self.store = store; self.logger = logger; self.settle = settle
    }

    /// A body for the link begins: the first of them records the first byte.
    public func began(_ token: Token) {
        inFlight[token.hash, default: 0] += 1
        lastActivity[token.hash] = Date().timeIntervalSince1970
        guard firstByteSeen.insert(token.hash).inserted else { return }
        do { try store.firstByte(token) } catch { logger.error("could not record the first byte", metadata: ["error": "\(error)"]) }
        Task { await bell.ring() }
    }

    /// A body ended, in full or not.
    public func ended(_ token: Token) {
        inFlight[token.hash, default: 1] -= 1
        lastActivity[token.hash] = Date().timeIntervalSince1970
    }

    /// A body of `range` was written out in full. `download`: a saved file, complete at once.
    public func served(_ token: Token, _ link: Link, _ range: ClosedRange<Int64>, download: Bool) {
        if download, range.lowerBound == 0, range.upperBound >= link.bytes - 1 {
            return complete(jobID: link.jobID, how: "downloaded in full")
        }
        var ranges = served[token.hash, default: []]
        ranges.append(range)
        ranges = AccessLedger.merge(ranges)
        served[token.hash] = ranges
        guard ranges.first.map({ $0.lowerBound <= 0 && $0.upperBound >= link.bytes - 1 }) == true,
              settling.insert(token.hash).inserted else { return }
        Task { await self.settleThenComplete(token, link) }
    }

    /// Completes once no body of the link has been in flight for `settle` seconds.
    private func settleThenComplete(_ token: Token, _ link: Link) async {
        while true {
            let quietUntil = (lastActivity[token.hash] ?? 0) + settle
            let now = Date().timeIntervalSince1970
            if inFlight[token.hash, default: 0] == 0, now >= quietUntil { break }
            try? await Task.sleep(for: .seconds(max(0.05, quietUntil - now)))
        }
        served[token.hash] = nil; inFlight[token.hash] = nil; lastActivity[token.hash] = nil; settling.remove(token.hash)
        complete(jobID: link.jobID, how: "one full transfer completed")
    }

    static func merge(_ ranges: [ClosedRange<Int64>]) -> [ClosedRange<Int64>] {
        var out: [ClosedRange<Int64>] = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, r.lowerBound <= last.upperBound + 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// Ends the link's life: the job to done/, then the link gone. Safe to repeat.
    public func complete(jobID: String, how: String) { complete(jobID: jobID, how: how, attempt: 0) }

    private func complete(jobID: String, how: String, attempt: Int) {
        switch spool.claimJob(jobID, from: .ready) {
        case .claimed(let claim):
            guard var job = try? claim.job() else { try? claim.putBack(); return }
            job.record(.delivered, by: "deliver", note: how)
            do { try claim.handOn(job, to: .done) } catch {
                logger.error("could not move a watched job to done/; recovery finishes it", metadata: ["job_id": "\(jobID)", "error": "\(error)"])
            }
            logger.info("link used up; the video goes now", metadata: ["job_id": "\(jobID)", "how": "\(how)"])
        case .busy where attempt < 50:
            // Held for a moment (the janitor's look at it, a spawning child's copy of a lock):
            // asked again shortly, never dropped, or a watched video would wait out its 24 hours.
            Task {
                try? await Task.sleep(for: .milliseconds(100))
                self.complete(jobID: jobID, how: how, attempt: attempt + 1)
            }
            return
        case .busy:
            logger.error("a watched job stayed locked in ready/ for 5 s; the access grace tries again", metadata: ["job_id": "\(jobID)"])
            return
        case .lost, .quarantined:
            // Not in ready/ any more (expired or cancelled this instant): nothing to move.
            break
        }
        do { try store.markGone(jobID: jobID, reason: spool.locate(jobID) == .failed ? "expired" : "watched") } catch {
            logger.error("could not mark a link gone", metadata: ["job_id": "\(jobID)", "error": "\(error)"])
        }
    }

    /// Completes the links whose grace after the first byte is over; when the next one falls due.
    func expireGraces(grace: Double, now: Double = Date().timeIntervalSince1970) -> Double? {
        for id in (try? store.graceOver(before: now - grace)) ?? [] {
            complete(jobID: id, how: "\(Lifetimes.words(grace)) after the first byte was served")
        }
        return ((try? store.earliestFirstByte()) ?? nil).map { $0 + grace }
    }

    func waitForFirstBytes(upTo seconds: Double) async { await bell.wait(upTo: seconds) }
}

/// Applies the access grace (a link whose first byte went out that long ago is used
/// up) and forgets links and notices older than the done/ lifetime, hourly.
struct LinkTimers: Service {
    let ledger: AccessLedger
    let store: LinkStore
    let grace: Double
    let keep: Double
    let logger: Logger

    func run() async throws {
        var nextPrune = 0.0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = Date().timeIntervalSince1970
            if now >= nextPrune {
                do { try store.prune(olderThan: keep) } catch { logger.error("could not prune the links", metadata: ["error": "\(error)"]) }
                nextPrune = now + 3_600
            }
            let next = await ledger.expireGraces(grace: grace)
            let wait = min(60, max(0.05, min(next ?? .infinity, nextPrune) - Date().timeIntervalSince1970))
            await cancelWhenGracefulShutdown { await ledger.waitForFirstBytes(upTo: wait) }
        }
    }
}
