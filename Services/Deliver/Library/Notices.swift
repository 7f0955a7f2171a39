// Notices: every job that is ready, failed or expired owes its person exactly one
// message. A notice is owed in the state (keyed by the job and the moment, so a
// retried job that fails again is told again) before anything is sent; the
// messenger sends what is due, one platform call per notice, and postpones a
// notice the platform asked to wait for without holding up the others. The
// failed/ watcher owes notices for jobs that failed anywhere in the pipeline,
// including while this daemon was stopped.
import Logging
import MathreelChat
import MathreelCore
import MathreelSpool
import MathreelSystem
import ServiceLifecycle

public enum Notices {
    /// One notice per job per ending: the history's length tells one ending from a later one.
    public static func key(_ job: Job, _ kind: NoticeKind) -> String { "\(job.id)/\(kind.rawValue)/\(job.history.count)" }

    /// The words of a ready notice.
    static func ready(_ job: Job, url: String, ready: Double) -> Message {
        let what = job.problem.map { "“\($0.clipped(to: 200))”" } ?? "your animation"
        let version = job.version > 1 ? " (version \(job.version))" : ""
        return Message(text: "✅ Your video for \(what)\(version) is ready:\n\(url)\(Notices.degraded(job))\n\nThe link works once: the video is deleted as soon as it has been watched or downloaded, and after \(Lifetimes.words(ready)) if it is not used.",
                       button: ("▶️ Watch", url, nil), replyTo: job.origin.messageID)
    }

    /// A lesson with a slate in it says so, and which scene: the person should know before watching.
    static func degraded(_ job: Job) -> String {
        let slates = (job.plan?.scenes ?? []).filter(\.slate)
        guard job.degraded, !slates.isEmpty else { return "" }
        let which = slates.map { "scene \($0.n) (“\($0.title.clipped(to: 60))”)" }.joined(separator: ", ")
        return "\n\nOne part could not be drawn: \(which) shows its title and what it explains as text instead of an animation. "
            + "To try it again, edit it: /edit \(slates[0].n) followed by what you would like."
    }

    /// The words of a failure notice, with the way to try again on that channel.
    static func failed(_ job: Job) -> Message {
        let what = job.problem.map { "“\($0.clipped(to: 200))”" } ?? "your animation"
        let why = job.error?.message ?? "It stopped without a reason."
        let head = job.status == .expired ? "⌛ No video for \(what)." : "❌ No video for \(what)."
        let retry = job.origin.channel == .telegram ? "Send /retry or tap the button to try again." : "Reply /retry to try again."
        return Message(text: "\(head)\n\(why)\n\n\(retry)", button: ("🔁 Try again", nil, "retry:\(job.id)"), replyTo: job.origin.messageID)
    }
}

/// Wakes a sleeping loop early; a ring while nobody waits is kept for the next wait.
actor Doorbell {
    private var rung = false
    private var waiter: CheckedContinuation<Void, Never>?

    func ring() {
        if let w = waiter { waiter = nil; w.resume() } else { rung = true }
    }

    /// Returns on a ring, after `seconds`, or when the task is cancelled.
    func wait(upTo seconds: Double) async {
        if rung { rung = false; return }
        let timer = Task { [weak self] in
            guard (try? await Task.sleep(for: .seconds(max(0.001, seconds)))) != nil else { return }
            await self?.ring()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { waiter = $0 }
        } onCancel: {
            Task { await self.ring() }
        }
        timer.cancel()
    }
}

/// Sends the notices that are due.
public final class Messenger: Service, Sendable {
    let store: LinkStore
    let spool: Spool
    let channels: Channels
    let config: Config
    let ledger: AccessLedger
    let logger: Logger
    let bell = Doorbell()
    /// Backoff between tries when the platform gave no wait of its own.
    public let retry: Backoff
    /// A notice still not sent this long after it was owed is given up (the link is dead by then).
    public let giveUpAfter: Double

    public init(store: LinkStore, spool: Spool, channels: Channels, config: Config, ledger: AccessLedger, logger: Logger,
                retry: Backoff = Backoff(maxTries: 20, base: 5, cap: 600)) {
        self.store = store; self.spool = spool; self.channels = channels; self.config = config
        self.ledger = ledger; self.logger = logger; self.retry = retry
        giveUpAfter = max(config.lifetimes.ready, config.lifetimes.failed)
    }

    public func wake() { Task { await bell.ring() } }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await sendDue()
            let next = (try? store.nextDue()) ?? nil
            let wait = min(30, max(0.01, (next ?? .infinity) - Date().timeIntervalSince1970))
            await cancelWhenGracefulShutdown { await self.bell.wait(upTo: wait) }
        }
    }

    /// Sends every due notice, several at once, so a slow platform holds up only its own.
    public func sendDue() async {
        guard let due = try? store.due(), !due.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for notice in due {
                if running == 4 { await group.next(); running -= 1 }
                group.addTask { await self.send(notice) }
                running += 1
            }
        }
    }

    func send(_ notice: PendingNotice) async {
        let found = spool.locate(notice.jobID)
        let expected: Place = notice.kind == .ready ? .ready : .failed
        guard found == expected, let bytes = spool.peek(expected, FileName(notice.jobID + ".json")),
              let job = try? Job.decode(bytes), Notices.key(job, notice.kind) == notice.key else {
            // A ready job not yet handed on (the step was interrupted) shows up in a moment;
            // one already watched, expired or retried needs no message any more.
            if found == .active(.deliver) || found == .deliver, notice.tries < 5 {
                try? store.postpone(notice.key, to: Date().timeIntervalSince1970 + 2, error: "the job is not in \(expected.path)/ yet")
            } else {
                settle(notice, "skipped", "the job is no longer in \(expected.path)/ (now \(found?.path ?? "gone"))")
            }
            return
        }
        let channel = job.origin.channel
        guard channel == .telegram || channel == .whatsapp else {
            return settle(notice, "skipped", "\(channel.rawValue) jobs show their \(notice.kind == .ready ? "link" : "error") in their status")
        }
        if let missing = channels.missingSettings(channel) {
            logger.warning("cannot tell the person: the channel is not configured",
                           metadata: ["job_id": "\(job.id)", "channel": "\(channel.rawValue)", "reason": "\(missing)"])
            return settle(notice, "given_up", missing)
        }
        guard let chat = job.origin.chatID, !chat.isEmpty else {
            return settle(notice, "given_up", "the job names no chat to answer on \(channel.rawValue)")
        }
        let result: SendResult
        switch notice.kind {
        case .ready:
            guard let url = job.linkURL else { return settle(notice, "given_up", "the ready job carries no link") }
            if config.deliverInline {
                // The stored file by the job's id, never `delivery.path`: a spool writer could point that at a secret.
                let path = Deliverer.storedVideo(job, in: PlainFile.absolute(config.videosPath))
                switch await InlineSender(channels: channels).send(job, file: path, chat: chat) {
                case .sent?:
                    await ledger.complete(jobID: job.id, how: "sent as a file on \(channel.rawValue)")
                    return handle(.sent, notice, job)
                case .later(let after, let why)?:
                    return handle(.later(after: after, why), notice, job)
                case .failed(let why)?:
                    logger.warning("the file could not be sent itself; sending the link instead", metadata: ["job_id": "\(job.id)", "error": "\(why)"])
                case nil:
                    break
                }
            }
            result = await channels.send(Notices.ready(job, url: url, ready: config.lifetimes.ready), on: channel, to: chat)
        case .failed:
            result = await channels.send(Notices.failed(job), on: channel, to: chat)
        }
        handle(result, notice, job)
    }

    func handle(_ result: SendResult, _ notice: PendingNotice, _ job: Job) {
        let meta: Logger.Metadata = ["job_id": "\(job.id)", "channel": "\(job.origin.channel.rawValue)", "notice": "\(notice.kind.rawValue)"]
        switch result {
        case .sent:
            settle(notice, "sent", nil)
            logger.info("person told", metadata: meta)
        case .failed(let why):
            settle(notice, "given_up", why)
            logger.error("could not tell the person", metadata: meta.merging(["error": "\(why)"]) { a, _ in a })
        case .later(let after, let why):
            let owedFor = Date().timeIntervalSince1970 - (job.history.last.flatMap { Timestamp.parse($0.at) }?.timeIntervalSince1970 ?? 0)
            guard notice.tries + 1 < retry.maxTries, owedFor < giveUpAfter else {
                settle(notice, "given_up", why)
                logger.error("gave up telling the person", metadata: meta.merging(["error": "\(why)", "tries": "\(notice.tries + 1)"]) { a, _ in a })
                return
            }
            let wait = after ?? retry.delay(afterTries: notice.tries + 1)
            try? store.postpone(notice.key, to: Date().timeIntervalSince1970 + wait, error: why)
            logger.warning("notice postponed", metadata: meta.merging(["error": "\(why)", "retry_in_s": "\(wait)"]) { a, _ in a })
        }
    }

    func settle(_ notice: PendingNotice, _ state: String, _ why: String?) {
        do { try store.settle(notice.key, as: state, error: why) } catch {
            logger.error("could not record a notice", metadata: ["job_id": "\(notice.jobID)", "error": "\(error)"])
        }
    }
}

/// Owes a notice for each job arriving in failed/ (run by a `WatchService`, whose
/// first scan takes those already there).
public struct FailureNotices: Sendable {
    let spool: Spool
    let store: LinkStore
    let logger: Logger
    let onOwed: @Sendable () -> Void

    public func owe(_ names: [FileName]) {
        var any = false
        for name in names where !name.isIgnored {
            guard let bytes = spool.peek(.failed, name), let job = try? Job.decode(bytes) else { continue }
            // An unused link that expired is dead from now on, whatever the page was told before.
            if job.status == .expired { _ = try? store.markGone(jobID: job.id, reason: "expired") }
            do {
                if try store.owe(key: Notices.key(job, .failed), jobID: job.id, kind: .failed) { any = true }
            } catch {
                logger.error("could not record a failure notice; the next scan tries again", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
            }
        }
        if any { onOwed() }
    }
}
