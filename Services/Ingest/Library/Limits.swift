// Limits: what keeps one person or a flood from starving everyone else. Token
// buckets per person (MATHREEL_RATE_LIMIT_PER_HOUR, _BURST), per client address
// (a session id is the client's to choose, an address is not), for new sessions
// per address, and for all web and API work together; bounded slots for event
// streams and code checks; and back-pressure: no new work while the queues
// before rendering hold more than MATHREEL_MAX_QUEUED jobs (the disk marker is
// the spool's own check). Refusals carry a Retry-After.
import MathreelCore
import MathreelSessions
import MathreelSpool
import Synchronization

/// Why new work was refused, in the shape every channel can tell.
public struct Refusal: Error, Sendable, Equatable {
    public let status: Int
    public let code: String
    public let message: String
    public var retryAfter: Int?
    public init(status: Int, code: String, message: String, retryAfter: Int? = nil) {
        self.status = status; self.code = code; self.message = message; self.retryAfter = retryAfter
    }
}

public final class RateLimiter: Sendable {
    struct Bucket { var tokens: Double; var at: Double }
    let perSecond: Double
    let burst: Double
    private let buckets = Mutex(PrunedDictionary<Bucket>(floor: 50_000))

    public init(perHour: Int, burst: Int) {
        perSecond = Double(perHour) / 3600; self.burst = Double(burst)
    }

    /// Takes one token for `person`; when none is left, the seconds until one is.
    public func take(_ person: Person, now: Double = Date().timeIntervalSince1970) -> Int? {
        take(person.key, now: now)
    }

    /// Takes one token for `key` (`peek`: only says whether one is there).
    public func take(_ key: String, peek: Bool = false, now: Double = Date().timeIntervalSince1970) -> Int? {
        buckets.withLock { all in
            var b = all.entries[key] ?? Bucket(tokens: burst, at: now)
            b.tokens = min(burst, b.tokens + max(0, now - b.at) * perSecond)
            b.at = now
            if b.tokens >= 1 {
                guard !peek else { return nil }
                b.tokens -= 1
                all.entries[key] = b
                // Full buckets carry no information: dropped, memory follows the active people.
                all.prune { $0.tokens + (now - $0.at) * perSecond < burst }
                return nil
            }
            return Int(((1 - b.tokens) / perSecond).rounded(.up))
        }
    }

    public func refusal(after seconds: Int, _ why: String = "You have started many videos in a short time.") -> Refusal {
        Refusal(status: 429, code: "rate_limited", message: "\(why) Try again in \(Lifetimes.words(Double(seconds))).", retryAfter: seconds)
    }
}

/// The queues before rendering, counted at most once a second.
public final class BackPressure: Sendable {
    let spool: Spool
    let bound: Int
    private let cached = Mutex<(at: Double, depth: Int)>((0, 0))

    public init(spool: Spool, bound: Int) { self.spool = spool; self.bound = bound }

    public func depth(now: Double = Date().timeIntervalSince1970) -> Int {
        if let d = cached.withLock({ now - $0.at < 1 ? $0.depth : nil }) { return d }
        let places: [Place] = [.incoming, .codegen, .render, .active(.incoming), .active(.codegen), .active(.render), .deferred(.codegen)]
        let d = places.reduce(0) { $0 + ((try? spool.list($1).count) ?? 0) }
        cached.withLock { $0 = (now, d) }
        return d
    }

    /// A refusal while the queues are too deep; nil when new work can be taken. The disk
    /// marker is not read here: publishing checks it (`Spool.submit`) and intake passes its refusal on.
    public func check() -> Refusal? {
        if depth() >= bound {
            return Refusal(status: 503, code: "busy",
                           message: "The server has more work queued than it can start now. Try again in a minute.", retryAfter: 60)
        }
        return nil
    }
}

/// A table that drops stale entries only once it has doubled since the last pass, so
/// the pass costs O(1) per insert however many entries stay live.
struct PrunedDictionary<Value> {
    var entries: [String: Value] = [:]
    private let floor: Int
    private var nextPass: Int

    init(floor: Int) { self.floor = floor; nextPass = floor }

    mutating func prune(keeping live: (Value) -> Bool) {
        guard entries.count > nextPass else { return }
        entries = entries.filter { live($0.value) }
        nextPass = max(floor, entries.count * 2)
    }
}

/// Every bucket one web or API submission must pass: its person's, its address's, the
/// address's new sessions when it opens one, and everyone's together. Nothing is taken
/// unless all of them have a token, so a refusal costs the other buckets nothing.
public struct Admission: Sendable {
    let person: RateLimiter
    let address: RateLimiter
    let newSessions: RateLimiter
    let allNewSessions: RateLimiter
    let total: RateLimiter

    public init(config: Config) {
        person = RateLimiter(perHour: config.rateLimitPerHour, burst: config.rateLimitBurst)
        address = RateLimiter(perHour: config.addressPerHour ?? 4 * config.rateLimitPerHour,
                              burst: config.addressBurst ?? 2 * config.rateLimitBurst)
        newSessions = RateLimiter(perHour: config.newSessionsPerHour, burst: config.newSessionsBurst)
        // Sessions from everyone: as many as the total of work, no more.
        allNewSessions = RateLimiter(perHour: config.totalPerHour, burst: config.totalBurst)
        total = RateLimiter(perHour: config.totalPerHour, burst: config.totalBurst)
    }

    /// nil when admitted (and the tokens taken); else the refusal.
    public func admit(_ s: Submission, now: Double = Date().timeIntervalSince1970) -> Refusal? {
        var gates: [(RateLimiter, String, String)] = [(person, s.person.key, "You have started many videos in a short time.")]
        if let address = s.address {
            gates.append((self.address, "addr:" + address, "Many videos were started from your network in a short time."))
            if s.newSession {
                gates.append((newSessions, "addr:" + address, "Many new sessions were opened from your network in a short time: send the session_id you were given with each job."))
                gates.append((allNewSessions, "all", "The server is opening many new sessions just now."))
            }
            gates.append((total, "all", "The server has been asked for many videos in a short time."))
        }
        for (limiter, key, why) in gates {
            if let wait = limiter.take(key, peek: true, now: now) { return limiter.refusal(after: wait, why) }
        }
        for (limiter, key, _) in gates { _ = limiter.take(key, now: now) }
        return nil
    }
}

/// A bounded number of things held at once, in all and per key (event streams per
/// session, code checks waiting).
public final class Slots: Sendable {
    let total: Int
    let each: Int
    private let held = Mutex<(all: Int, by: [String: Int])>((0, [:]))

    public init(total: Int, each: Int) { self.total = total; self.each = each }

    public func acquire(_ key: String) -> Bool {
        held.withLock { h in
            guard h.all < total, h.by[key, default: 0] < each else { return false }
            h.all += 1
            h.by[key, default: 0] += 1
            return true
        }
    }

    public func release(_ key: String) {
        held.withLock { h in
            h.all = max(0, h.all - 1)
            let n = h.by[key, default: 0] - 1
            h.by[key] = n > 0 ? n : nil
        }
    }

    public var inUse: Int { held.withLock { $0.all } }
}

/// One slot, given back when the holder goes (a response body may be dropped unsent).
final class Lease: Sendable {
    let slots: Slots
    let key: String
    init(_ slots: Slots, _ key: String) { self.slots = slots; self.key = key }
    deinit { slots.release(key) }
}
