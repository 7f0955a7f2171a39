// Limits: what keeps one person or a flood from starving everyone else. A token
// bucket per person (MATHREEL_RATE_LIMIT_PER_HOUR, _BURST), and back-pressure:
// no new work while the queues before rendering hold more than
// MATHREEL_MAX_QUEUED jobs (the disk marker is the spool's own check). Refusals
// carry a Retry-After.
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
        buckets.withLock { all in
            var b = all.entries[person.key] ?? Bucket(tokens: burst, at: now)
            b.tokens = min(burst, b.tokens + max(0, now - b.at) * perSecond)
            b.at = now
            defer {
                all.entries[person.key] = b
                // Full buckets carry no information: dropped, memory follows the active people.
                all.prune { $0.tokens + (now - $0.at) * perSecond < burst }
            }
            if b.tokens >= 1 { b.tokens -= 1; return nil }
            return Int(((1 - b.tokens) / perSecond).rounded(.up))
        }
    }

    public func refusal(after seconds: Int) -> Refusal {
        Refusal(status: 429, code: "rate_limited",
                message: "You have started many videos in a short time. Try again in \(Lifetimes.words(Double(seconds))).", retryAfter: seconds)
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
