// Chat: what a message in Telegram or WhatsApp asks for, and the answer. The
// commands (/start, /help, /code, /status, /history, /retry, /forget) work the
// same on both; plain text is a problem, a fenced block is code. Answers go back
// through the platform's API after the webhook has been acknowledged.
import Logging
import MathreelChat
import MathreelCore
import MathreelSessions
import MathreelSpool

/// One message a person sent, as both platforms give it.
struct ChatMessage: Sendable {
    let person: Person
    let chat: String
    let messageID: String
    let text: String
    /// The platform's id for this message, for the dedupe key.
    let dedupeKey: String
}

enum ChatRequest: Equatable {
    case help
    case problem(String)
    case code(String)
    case status(String?)
    case history
    case requeue(String?)
    case forget
    /// `/edit N what to change`: scene N of the person's last lesson (nil when N is not a number).
    case edit(scene: Int?, text: String)

    /// New work: the session is extended when its job is recorded (or by the refusal).
    var startsWork: Bool {
        switch self {
        case .problem(let t), .code(let t): !t.isEmpty
        case .edit(let n, let t): n != nil && !t.isEmpty
        default: false
        }
    }

    /// Reads a message; a group command's `@name` suffix is dropped.
    static func parse(_ raw: String) -> ChatRequest {
        let text = raw.trimmed()
        if let code = fenced(text) { return .code(code) }
        guard text.hasPrefix("/") else { return .problem(text) }
        let head = text.prefix { !$0.isWhitespace && !$0.isNewline }
        let rest = String(text.dropFirst(head.count)).trimmed()
        let command = head.split(separator: "@").first.map { $0.lowercased() } ?? ""
        switch command {
        case "/start", "/help": return .help
        case "/code": return .code(fenced(rest) ?? rest)
        case "/status": return .status(rest.isEmpty ? nil : rest)
        case "/history": return .history
        case "/retry": return .requeue(rest.isEmpty ? nil : rest)
        case "/forget": return .forget
        case "/solve": return .problem(rest)
        case "/edit":
            let number = rest.prefix { $0.isNumber }
            return .edit(scene: number.isEmpty || number.count > 2 ? nil : Int(number), text: String(rest.dropFirst(number.count)).trimmed())
        default: return .help
        }
    }

    /// The code inside a message that is one fenced block (```python ... ```).
    static func fenced(_ text: String) -> String? {
        guard text.hasPrefix("```"), text.hasSuffix("```"), text.count > 6 else { return nil }
        var body = text.dropFirst(3).dropLast(3)
        if let nl = body.firstIndex(of: "\n"), !body[..<nl].contains(" ") { body = body[body.index(after: nl)...] }
        return String(body)
    }
}

/// Carries out chat requests and says what happened.
struct ChatDesk: Sendable {
    let intake: Intake
    let spool: Spool
    let sessions: SessionStore
    let replies: Replies
    /// `<state>/videos`, for /forget.
    let videosPath: String
    let logger: Logger

    static let help = """
        Send me a math problem and I make a short video that solves it, for example:
        • Solve x^2 - 5x + 6 = 0
        • Differentiate x^3 sin(x)
        • Integrate x^2 from 0 to 3
        Or send Manim code as /code followed by the source (or as one ```python block```).
        /status shows your last job, /history your recent ones, /retry tries your last failed one again, /forget deletes what I keep about you.
        /edit 2 slower makes a new version of your last lesson with scene 2 changed.
        """

    /// Handles one message; the reply goes out in the background. True when it made a
    /// job (whose update key intake took with it).
    @discardableResult
    func handle(_ m: ChatMessage, channel: Channel) async -> Bool {
        let request = ChatRequest.parse(m.text)
        if !request.startsWork { _ = try? sessions.touch(m.person) }
        let answer: String
        var made = false
        switch request {
        case .help:
            answer = ChatDesk.help
        case .problem(let text):
            guard !text.isEmpty else { answer = ChatDesk.help; break }
            guard case let (said?, new) = await submit(m, .problem, text, channel: channel) else { return false }
            answer = said; made = new
        case .code(let text):
            guard !text.isEmpty else { answer = "Put the Manim source after /code."; break }
            guard case let (said?, new) = await submit(m, .code, text, channel: channel) else { return false }
            answer = said; made = new
        case .status(let wanted):
            answer = status(m.person, wanted)
        case .history:
            let jobs = (try? sessions.history(m.person, limit: 10)) ?? []
            answer = jobs.isEmpty ? "You have no jobs yet. Send a problem to start one."
                : "Your recent jobs:\n" + jobs.map { "• \($0.jobID.prefix(8)) \(describe(spool.find($0.jobID))): \($0.summary.clipped(to: 60))" }.joined(separator: "\n")
        case .requeue(let wanted):
            answer = requeue(m.person, wanted)
        case .forget:
            answer = await forget(m.person)
        case .edit(let n, let text):
            guard let n, !text.isEmpty else {
                answer = "Say which scene and what to change, for example: /edit 2 slower (without a model I understand \(ChatDesk.editWords))."
                break
            }
            guard case let (said?, new) = await edit(m, scene: n, text, channel: channel) else { return false }
            answer = said; made = new
        }
        replies.send(Message(text: answer, replyTo: m.messageID), on: channel, to: m.chat)
        return made
    }

    /// What to say about new work (nil for a delivery already answered when it was first
    /// taken), and whether a job was made.
    func submit(_ m: ChatMessage, _ kind: JobKind, _ text: String, channel: Channel) async -> (String?, Bool) {
        var s = Submission(person: m.person, channel: channel, kind: kind, text: text)
        s.chatID = m.chat; s.messageID = m.messageID; s.dedupeKey = m.dedupeKey
        do {
            let (job, duplicate) = try await intake.submit(s)
            if duplicate { return (nil, false) }
            return ("Got it, job \(job.id.prefix(8)) is queued. I will send the link here when the video is ready.", true)
        } catch {
            // A refusal extends a session that exists and creates none.
            _ = try? sessions.extend(m.person)
            return (error.message, false)
        }
    }

    static let editWords = "slower, faster, larger, smaller, a colour, show each step"

    /// Scene n of the person's last lesson, changed as `text` asks.
    func edit(_ m: ChatMessage, scene n: Int, _ text: String, channel: Channel) async -> (String?, Bool) {
        let recent = (try? sessions.history(m.person, limit: 20)) ?? []
        guard let lesson = recent.first(where: { spool.find($0.jobID)?.job?.plan != nil }) else {
            _ = try? sessions.extend(m.person)
            return ("You have no lesson to edit yet. Send a problem first; its video is a lesson of scenes you can then edit.", false)
        }
        var s = Submission(person: m.person, channel: channel, kind: .problem, text: text)
        s.chatID = m.chat; s.messageID = m.messageID; s.dedupeKey = m.dedupeKey
        do {
            let (job, duplicate) = try await intake.submitEdit(s, parent: lesson.jobID, scene: n)
            if duplicate { return (nil, false) }
            return ("Got it: version \(job.version) of your lesson, with scene \(n) changed, is queued as job \(job.id.prefix(8)). I will send its link here.", true)
        } catch {
            _ = try? sessions.extend(m.person)
            return (error.message, false)
        }
    }

    func describe(_ found: FoundJob?) -> String {
        guard let found else { return "gone (expired)" }
        if let error = found.job?.error, found.place == .failed { return "\(found.status): \(error.message)" }
        return found.status + (found.progress.map { " (\($0)%)" } ?? "")
    }

    /// The job the person means: a given id or its first 8 characters, else the last one.
    func pick(_ person: Person, _ wanted: String?, where ok: (SessionJob) -> Bool = { _ in true }) -> SessionJob? {
        let jobs = (try? sessions.history(person)) ?? []
        if let wanted = wanted?.lowercased() { return jobs.first { $0.jobID.hasPrefix(wanted) && wanted.count >= 4 } }
        return jobs.first(where: ok)
    }

    func status(_ person: Person, _ wanted: String?) -> String {
        guard let job = pick(person, wanted) else {
            return wanted == nil ? "You have no jobs yet. Send a problem to start one." : "I know no job of yours starting with \(wanted!)."
        }
        let found = spool.find(job.jobID)
        var text = "Job \(job.jobID.prefix(8)): \(describe(found))."
        if let url = found?.job?.linkURL, found?.place == .ready { text += "\nWatch it here (once): \(url)" }
        return text
    }

    func requeue(_ person: Person, _ wanted: String?) -> String {
        let failed = pick(person, wanted) { spool.locate($0.jobID) == .failed }
        guard let job = failed else { return "You have no failed job I could try again." }
        do {
            _ = try spool.requeue(job.jobID, by: "ingest", note: "retried from chat")
            return "Job \(job.jobID.prefix(8)) is queued again."
        } catch {
            switch error {
            case .notFound: return "Job \(job.jobID.prefix(8)) is gone (failed jobs are kept 24 h). Send the problem again."
            case .notFailed(let found): return "Job \(job.jobID.prefix(8)) is \(found.status); only a failed one can be tried again."
            case .diskFull(let reason): return reason
            case .busy, .lost: return "Job \(job.jobID.prefix(8)) is being handled right now. Try again in a moment."
            case .quarantined, .unreadable, .moveFailed: return "Job \(job.jobID.prefix(8)) cannot be tried again. Send the problem again."
            }
        }
    }

    /// Deletes the session and history, any video still waiting to be watched (its job ends
    /// as `cancelled`, which kills the link), every job still waiting for a stage (nothing of
    /// a forgotten person is made afterwards), and every render-cache entry only these jobs
    /// used. A job a worker holds is tried again for a few seconds; one held longer stays
    /// marked in the sessions, and the janitor cancels it once the worker lets it go.
    func forget(_ person: Person) async -> String {
        let ids = (try? sessions.forget(person)) ?? []
        let videos = VideoIndex(path: videosPath), cache = RenderCache(config: intake.config)
        var outcomes: [String: CancelOutcome] = [:], pending = ids
        // A hand-on between its rename and letting go, or a spawning child's copy of a lock: moments, not minutes.
        for attempt in 0..<20 where !pending.isEmpty {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(250)) }
            pending = pending.filter { id in
                let outcome = spool.cancel(id, by: "ingest", videos: videos, cache: cache) { Spool.forgotten(wasReady: $0) }
                outcomes[id] = outcome
                return outcome == .busy
            }
        }
        var waiting = 0, stopped = 0, held = 0
        for (id, outcome) in outcomes {
            switch outcome {
            case .cancelled(let ready): if ready { waiting += 1 } else { stopped += 1 }
            case .busy: held += 1; continue
            case .finished: break
            }
            try? sessions.settled(id)
        }
        // Jobs no longer waiting (failed, or still on their way) give up their cache entries too.
        let released = ids.reduce(0) { $0 + cache.release($1).count }
        logger.info("session forgotten", metadata: ["person": "\(person)", "jobs": "\(ids.count)", "videos_cancelled": "\(waiting)",
                                                    "jobs_stopped": "\(stopped)", "jobs_held": "\(held)", "cache_entries_released": "\(released)"])
        var said = "Done: I deleted your history (\(ids.count) job\(ids.count == 1 ? "" : "s"))"
        if waiting > 0 { said += ", \(waiting) video\(waiting == 1 ? "" : "s") still waiting" }
        if stopped > 0 { said += ", and stopped \(stopped) job\(stopped == 1 ? "" : "s") not yet made" }
        if held > 0 { said += "; \(held) job\(held == 1 ? " is" : "s are") being worked on right now and will be deleted as soon as \(held == 1 ? "it stops" : "they stop")" }
        return said + "."
    }
}

/// Answers in chat, in the background, with a few tries when the platform asks to wait.
struct Replies: Sendable {
    let channels: Channels
    let logger: Logger

    func send(_ message: Message, on channel: Channel, to chat: String) {
        guard channels.missingSettings(channel) == nil else {
            logger.warning("cannot answer in chat", metadata: ["channel": "\(channel.rawValue)", "reason": "\(channels.missingSettings(channel) ?? "")"])
            return
        }
        Task {
            for attempt in 0..<4 {
                switch await channels.send(message, on: channel, to: chat) {
                case .sent: return
                case .failed(let why):
                    logger.warning("chat answer refused", metadata: ["channel": "\(channel.rawValue)", "error": "\(why)"])
                    return
                case .later(let after, let why):
                    if attempt == 3 { logger.warning("chat answer given up", metadata: ["channel": "\(channel.rawValue)", "error": "\(why)"]); return }
                    try? await Task.sleep(for: .seconds(min(after ?? Double(1 << attempt), 60)))
                }
            }
        }
    }
}
