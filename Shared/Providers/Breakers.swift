// Breakers: one circuit breaker per provider (closed, open, half-open with one
// trial call), kept in <state>/breakers.json so a restart does not spend a call
// on a quota known to be used up, and so /health can report them.
import MathreelCore
import MathreelSystem

public struct Breaker: Sendable, Equatable {
    public enum State: String, Sendable { case closed, open, halfOpen = "half_open" }
    public var state: State = .closed
    /// Consecutive failures while closed.
    public var failures = 0
    /// How many times it opened in a row (the open time doubles with each).
    public var trips = 0
    /// Not before this time (open), and why.
    public var openUntil: Date?
    public var reason: String?
    /// A half-open trial call is out.
    public var trialOut = false

    public init() {}

    var json: JSONValue {
        var o: JSONObject = ["state": .string(state.rawValue), "failures": .int(Int64(failures)), "trips": .int(Int64(trips))]
        if let openUntil { o["open_until"] = .string(Timestamp.string(openUntil)) }
        if let reason { o["reason"] = .string(reason) }
        return .object(o)
    }

    init(json o: JSONObject) {
        state = State(rawValue: o["state"]?.stringValue ?? "") ?? .closed
        // Saturating reads: `+= 1` on a hand-edited Int64.max must not trap the daemon.
        failures = Job.counter(o["failures"])
        trips = Job.counter(o["trips"])
        openUntil = o["open_until"]?.stringValue.flatMap(Timestamp.parse)
        reason = o["reason"]?.stringValue
        // A trial that was out when the daemon stopped is over.
        if state == .halfOpen { state = .open }
    }
}

public actor Breakers {
    /// Consecutive failures that open a closed breaker.
    public static let threshold = 3
    static let firstOpen = 30.0, longestOpen = 600.0

    let file: String?
    private var breakers: [ProviderName: Breaker] = [:]
    private let now: @Sendable () -> Date

    public init(file: String?, now: @escaping @Sendable () -> Date = { Date() }) {
        self.file = file; self.now = now
        if let file { breakers = Breakers.read(file: file) }
    }

    /// The breakers as the file holds them (codegen writes it; ingest's /health reads it);
    /// a missing or damaged file reads as every breaker closed.
    public static func read(file: String) -> [ProviderName: Breaker] {
        guard case .object(let o)? = try? JSONValue.parse(PlainFile.tail(file, limit: 1 << 20)) else { return [:] }
        var out: [ProviderName: Breaker] = [:]
        for (key, value) in o { if let name = ProviderName(rawValue: key), let b = value.objectValue { out[name] = Breaker(json: b) } }
        return out
    }

    public func state(_ name: ProviderName) -> Breaker { breakers[name] ?? Breaker() }

    /// Whether a call may go out now; an open breaker whose time is up lets one trial through.
    public func allow(_ name: ProviderName) -> Bool {
        var b = breakers[name] ?? Breaker()
        defer { breakers[name] = b }
        switch b.state {
        case .closed: return true
        case .halfOpen: return false  // its one trial is out
        case .open:
            guard let until = b.openUntil, until <= now() else { return false }
            b.state = .halfOpen
            b.trialOut = true
            return true
        }
    }

    /// The call worked: closed again.
    public func succeeded(_ name: ProviderName) {
        let before = breakers[name] ?? Breaker()
        breakers[name] = Breaker()
        if before != Breaker() { save() }
    }

    /// The call failed in a way that counts against the provider.
    public func failed(_ name: ProviderName, _ failure: ProviderFailure) {
        var b = breakers[name] ?? Breaker()
        let t = now()
        switch failure {
        case .quotaExhausted(let until, _):
            open(&b, until: until, reason: failure.description)
        case .rateLimited(let after, _):
            // A known wait: not before then, whatever the count says.
            open(&b, until: t.addingTimeInterval(min(after ?? Breakers.firstOpen, 3600)), reason: failure.description)
        case .configuration:
            open(&b, until: t.addingTimeInterval(3600), reason: failure.description)
        case .badRequest:
            return  // our own bug: not the provider's fault
        default:
            if b.state == .halfOpen {
                b.trips += 1
                open(&b, until: t.addingTimeInterval(backoff(b.trips)), reason: failure.description)
            } else {
                b.failures += 1
                if b.failures >= Breakers.threshold {
                    b.trips += 1
                    open(&b, until: t.addingTimeInterval(backoff(b.trips)), reason: failure.description)
                }
            }
        }
        breakers[name] = b
        save()
    }

    private func open(_ b: inout Breaker, until: Date, reason: String) {
        b.state = .open; b.openUntil = until; b.reason = reason; b.failures = 0; b.trialOut = false
    }

    /// 30 s, 60 s, 120 s ... up to 10 min, jittered by up to a tenth.
    private func backoff(_ trips: Int) -> Double {
        let base = min(Breakers.longestOpen, Breakers.firstOpen * Double(1 << min(max(0, trips - 1), 10)))
        return base * (1 + Double.random(in: 0...0.1))
    }

    /// Written whole to a temporary name, then renamed over the old file.
    private func save() {
        guard let file else { return }
        var o: JSONObject = [:]
        for (name, b) in breakers { o[name.rawValue] = b.json }
        let tmp = file + ".tmp"
        do {
            try PlainFile.write(JSONValue.object(o).serialized(pretty: true), to: tmp, sync: true)
            try PlainFile.move(tmp, to: file)
        } catch {}
    }
}
