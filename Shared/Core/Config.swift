// Configuration: every MATHREEL_* setting this part of the system reads, with
// The defaults of the README and docs/PROTOCOL.md, parsed once. A bad value is an error that names the key.

public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// The README's lifetimes: each in seconds.
public struct Lifetimes: Sendable, Equatable {
    public var session: Double = 7 * 86_400
    public var queued: Double = 3_600
    public var ready: Double = 86_400
    public var accessGrace: Double = 600
    /// After a player's requests covered the whole file, how long the link stays quiet
    /// before access counts as complete (a player may drop a connection whose bytes it
    /// never read, and ask again).
    public var accessSettle: Double = 30
    public var done: Double = 7 * 86_400
    public var failed: Double = 86_400
    public var quarantine: Double = 7 * 86_400
    public var renderTimeout: Double = 300
    /// tmp/ debris older than this is removed (docs/PROTOCOL.md).
    public var tmpDebris: Double = 3_600
    /// A render-cache entry at most this long after it was stored, even while a job
    /// still uses it (MATHREEL_RENDER_CACHE_TTL_S; whole seconds, at most 24 h).
    public var renderCache: Double = 3_600
    public init() {}
}

extension Lifetimes {
    /// A lifetime in words: "1 hour", "24 hours", "7 days", "90 minutes", "0.2 seconds".
    public static func words(_ seconds: Double) -> String {
        func unit(_ n: Double, _ word: String) -> String {
            // n is a whole number of tenths here, so this is what "%.1f" printed.
            let tenths = Int((n.magnitude * 10).rounded())
            let text = n == n.rounded() ? String(Int(n)) : "\(n < 0 ? "-" : "")\(tenths / 10).\(tenths % 10)"
            return "\(text) \(word)\(n == 1 ? "" : "s")"
        }
        if seconds >= 2 * 86_400, seconds.truncatingRemainder(dividingBy: 86_400) == 0 { return unit(seconds / 86_400, "day") }
        if seconds >= 3_600, seconds.truncatingRemainder(dividingBy: 3_600) == 0 { return unit(seconds / 3_600, "hour") }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return unit(seconds / 60, "minute") }
        if seconds >= 3 * 3_600 { return unit((seconds / 3_600 * 10).rounded() / 10, "hour") }
        if seconds >= 120 { return unit((seconds / 60).rounded(), "minute") }
        return unit((seconds * 10).rounded() / 10, "second")
    }
}

public struct Config: Sendable {
    public var spool: String
    public var state: String
    public var lifetimes = Lifetimes()
    public var minFreeBytes: Int64 = 1 << 30
    /// What the render cache may hold; the oldest entries go first beyond it (MATHREEL_RENDER_CACHE_MAX_BYTES).
    public var renderCacheMaxBytes: Int64 = 1 << 30
    public var defaultQuality: Quality = .low
    public var directCode = true
    /// How often the janitor sweeps every directory.
    public var janitorInterval: Double = 30
    /// How often a model's code that failed goes back to codegen/ to be repaired (MATHREEL_MAX_REPAIRS).
    public var maxRepairs = 2
    /// A rendered video larger than this fails instead of being delivered (MATHREEL_MAX_VIDEO_BYTES).
    public var maxVideoBytes: Int64 = 50 << 20
    /// Where ingest's web side listens (MATHREEL_INGEST_ADDR).
    public var ingestAddress = ListenAddress(host: "127.0.0.1", port: 8080)
    /// Jobs a person may start per hour, and at once (MATHREEL_RATE_LIMIT_PER_HOUR, _BURST).
    public var rateLimitPerHour = 30
    public var rateLimitBurst = 5
    /// New work is refused while the queues before rendering hold more (MATHREEL_MAX_QUEUED).
    public var maxQueued = 1000
    /// What the web side takes from one client address (IPv4 address, IPv6 /64), whatever
    /// session it names (MATHREEL_RATE_LIMIT_PER_ADDRESS_PER_HOUR, _BURST; default 4× and 2× a person's).
    public var addressPerHour: Int?
    public var addressBurst: Int?
    /// New anonymous sessions per address, and new web and API jobs from everyone together
    /// (MATHREEL_NEW_SESSIONS_PER_HOUR, _BURST; MATHREEL_RATE_LIMIT_TOTAL_PER_HOUR, _BURST).
    public var newSessionsPerHour = 20
    public var newSessionsBurst = 5
    public var totalPerHour = 2_000
    public var totalBurst = 100
    /// Peers whose X-Forwarded-For is believed (MATHREEL_TRUSTED_PROXIES: addresses or
    /// CIDR ranges, comma-separated; default loopback, where a local reverse proxy connects from).
    public var trustedProxies = ["127.0.0.1", "::1"]
    /// Open event streams per session and in all, code checks waiting at once, and open
    /// connections of each web daemon (MATHREEL_MAX_EVENT_STREAMS_PER_SESSION, MATHREEL_MAX_EVENT_STREAMS,
    /// MATHREEL_MAX_PENDING_CHECKS, MATHREEL_MAX_CONNECTIONS).
    public var maxStreamsPerSession = 4
    public var maxStreams = 256
    public var maxPendingChecks = 8
    public var maxConnections = 512
    /// A connection that sends nothing for this long mid-request (or between requests) is closed (MATHREEL_HTTP_IDLE_TIMEOUT_S).
    public var httpIdleTimeout: Int64 = 30
    /// Where delivery's web side listens (MATHREEL_DELIVERY_ADDR).
    public var deliveryAddress = ListenAddress(host: "127.0.0.1", port: 8081)
    /// The base of every link sent to people (MATHREEL_PUBLIC_URL); default: the delivery address.
    public var publicURL: String
    /// Send the video file itself on Telegram and WhatsApp (MATHREEL_DELIVER_INLINE).
    public var deliverInline = false
    public var environment: [String: String]
    /// Where delivery stores videos until they are watched: `<state>/videos/<id>.<ext>`.
    public var videosPath: String { state + "/videos" }
    /// The Python of the Manim environment (MATHREEL_PYTHON).
    public var python: String
    /// Problems codegen works on at once (MATHREEL_CODEGEN_CONCURRENCY).
    public var codegenConcurrency = 4
    /// Renders at once (MATHREEL_MAX_CONCURRENT_RENDERS); nil: one per CPU.
    public var maxConcurrentRenders: Int?
    /// A lesson's scenes rendered at once (MATHREEL_MAX_SCENE_CONCURRENCY); every render still takes one of the renders' slots.
    public var maxSceneConcurrency = 4
    /// A lesson's whole render (MATHREEL_LESSON_TIMEOUT_S): no scene starts after it; each scene still has MATHREEL_RENDER_TIMEOUT_S.
    public var lessonTimeout: Double = 900
    /// How long a watched lesson's scene videos are kept for edits (MATHREEL_SCENE_KEEP_S; 0: none, as privacy asks).
    public var sceneKeep: Double = 0
    /// Whether prompts carry snippets of the installed Manim's docs (MATHREEL_USE_RAG, or sf_backend's USE_RAG).
    public var useRAG = true
    /// Runners kept imported ahead of need (MATHREEL_WARM_WORKERS); nil: one per render.
    public var warmWorkers: Int?
    /// The sandbox's nice value (MATHREEL_RENDER_NICE; the render unit sets 10).
    public var renderNice = 0
    /// The lowest log level written (MATHREEL_LOG_LEVEL): trace, debug, info, notice, warning, error, critical.
    public var logLevel = "info"
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// sf_backend's names, read when the `MATHREEL_` form is unset (SPEC §8).
    public static let unprefixed = ["PLANNER_MODEL", "SCENE_MODEL", "HELPER_MODEL", "MAX_SCENE_CONCURRENCY", "USE_RAG",
                                    "DEFAULT_QUALITY", "MAX_CONCURRENT_RENDERS"]

    public init(environment given: [String: String] = ProcessInfo.processInfo.environment) throws {
        var env = given, borrowed: Set<String> = []
        for key in Config.unprefixed where (env["MATHREEL_" + key] ?? "").isEmpty {
            if let v = env[key], !v.isEmpty { env["MATHREEL_" + key] = v; borrowed.insert("MATHREEL_" + key) }
        }
        // A refusal names the key the person set.
        func named(_ key: String) -> String { borrowed.contains(key) ? String(key.dropFirst("MATHREEL_".count)) : key }
        environment = env
        python = Config.python(env)
        spool = env["MATHREEL_SPOOL"].flatMap { $0.isEmpty ? nil : $0 } ?? "./spool"
        state = env["MATHREEL_STATE"].flatMap { $0.isEmpty ? nil : $0 } ?? "./state"
        publicURL = ""
        func seconds(_ key: String, _ path: WritableKeyPath<Lifetimes, Double>) throws {
            guard let raw = env[key], !raw.isEmpty else { return }
            guard let v = Double(raw), v >= 0, v.isFinite else {
                throw ConfigError(description: "\(key) must be a number of seconds; got '\(raw)'")
            }
            lifetimes[keyPath: path] = v
        }
        try seconds("MATHREEL_SESSION_TTL_S", \.session)
        try seconds("MATHREEL_QUEUED_TTL_S", \.queued)
        try seconds("MATHREEL_READY_TTL_S", \.ready)
        try seconds("MATHREEL_ACCESS_GRACE_S", \.accessGrace)
        try seconds("MATHREEL_ACCESS_SETTLE_S", \.accessSettle)
        try seconds("MATHREEL_DONE_TTL_S", \.done)
        try seconds("MATHREEL_FAILED_TTL_S", \.failed)
        try seconds("MATHREEL_QUARANTINE_TTL_S", \.quarantine)
        try seconds("MATHREEL_RENDER_TIMEOUT_S", \.renderTimeout)
        try seconds("MATHREEL_TMP_TTL_S", \.tmpDebris)
        func whole(_ key: String, _ range: ClosedRange<Int64>, _ unit: String = "") throws -> Int64? {
            guard let raw = env[key], !raw.isEmpty else { return nil }
            guard let v = Int64(raw), range.contains(v) else {
                let allowed = range.upperBound == .max ? "\(range.lowerBound) or more" : "from \(range.lowerBound) to \(range.upperBound)"
                throw ConfigError(description: "\(named(key)) must be a whole number\(unit), \(allowed); got '\(raw)'")
            }
            return v
        }
        if let v = try whole("MATHREEL_MIN_FREE_BYTES", 0...Int64.max, " of bytes") { minFreeBytes = v }
        if let v = try whole("MATHREEL_RENDER_CACHE_TTL_S", 0...86_400, " of seconds") { lifetimes.renderCache = Double(v) }
        if let v = try whole("MATHREEL_RENDER_CACHE_MAX_BYTES", 0...Int64.max, " of bytes") { renderCacheMaxBytes = v }
        if let raw = env["MATHREEL_DEFAULT_QUALITY"], !raw.isEmpty {
            guard let q = Quality(rawValue: raw) else {
                throw ConfigError(description: "\(named("MATHREEL_DEFAULT_QUALITY")) must be one of low, medium, high; got '\(raw)'")
            }
            defaultQuality = q
        }
        if let v = try Config.flag(env, "MATHREEL_DIRECT_CODE") { directCode = v }
        if let v = try Config.flag(env, "MATHREEL_USE_RAG") { useRAG = v }
        if let raw = env["MATHREEL_JANITOR_INTERVAL_S"], !raw.isEmpty {
            guard let v = Double(raw), v > 0 else {
                throw ConfigError(description: "MATHREEL_JANITOR_INTERVAL_S must be a positive number of seconds; got '\(raw)'")
            }
            janitorInterval = v
        }
        if let v = try whole("MATHREEL_MAX_REPAIRS", 0...10) { maxRepairs = Int(v) }
        if let v = try whole("MATHREEL_MAX_VIDEO_BYTES", 1...Int64.max, " of bytes") { maxVideoBytes = v }
        if let v = try whole("MATHREEL_RATE_LIMIT_PER_HOUR", 1...1_000_000) { rateLimitPerHour = Int(v) }
        if let v = try whole("MATHREEL_RATE_LIMIT_BURST", 1...10_000) { rateLimitBurst = Int(v) }
        if let v = try whole("MATHREEL_MAX_QUEUED", 1...1_000_000) { maxQueued = Int(v) }
        if let v = try whole("MATHREEL_RATE_LIMIT_PER_ADDRESS_PER_HOUR", 1...1_000_000) { addressPerHour = Int(v) }
        if let v = try whole("MATHREEL_RATE_LIMIT_PER_ADDRESS_BURST", 1...10_000) { addressBurst = Int(v) }
        if let v = try whole("MATHREEL_NEW_SESSIONS_PER_HOUR", 1...1_000_000) { newSessionsPerHour = Int(v) }
        if let v = try whole("MATHREEL_NEW_SESSIONS_BURST", 1...10_000) { newSessionsBurst = Int(v) }
        if let v = try whole("MATHREEL_RATE_LIMIT_TOTAL_PER_HOUR", 1...100_000_000) { totalPerHour = Int(v) }
        if let v = try whole("MATHREEL_RATE_LIMIT_TOTAL_BURST", 1...1_000_000) { totalBurst = Int(v) }
        if let v = try whole("MATHREEL_MAX_EVENT_STREAMS_PER_SESSION", 1...1_000) { maxStreamsPerSession = Int(v) }
        if let v = try whole("MATHREEL_MAX_EVENT_STREAMS", 1...100_000) { maxStreams = Int(v) }
        if let v = try whole("MATHREEL_MAX_PENDING_CHECKS", 1...10_000) { maxPendingChecks = Int(v) }
        if let v = try whole("MATHREEL_MAX_CONNECTIONS", 1...1_000_000) { maxConnections = Int(v) }
        if let v = try whole("MATHREEL_HTTP_IDLE_TIMEOUT_S", 1...3_600, " of seconds") { httpIdleTimeout = v }
        if let v = try whole("MATHREEL_CODEGEN_CONCURRENCY", 1...64) { codegenConcurrency = Int(v) }
        if let v = try whole("MATHREEL_MAX_CONCURRENT_RENDERS", 1...256) { maxConcurrentRenders = Int(v) }
        if let v = try whole("MATHREEL_MAX_SCENE_CONCURRENCY", 1...Int64(Lesson.maxScenes)) { maxSceneConcurrency = Int(v) }
        if let v = try whole("MATHREEL_LESSON_TIMEOUT_S", 1...86_400, " of seconds") { lessonTimeout = Double(v) }
        if let v = try whole("MATHREEL_SCENE_KEEP_S", 0...604_800, " of seconds") { sceneKeep = Double(v) }
        if let v = try whole("MATHREEL_WARM_WORKERS", 0...256) { warmWorkers = Int(v) }
        if let v = try whole("MATHREEL_RENDER_NICE", 0...19) { renderNice = Int(v) }
        if let raw = env["MATHREEL_LOG_LEVEL"], !raw.isEmpty {
            guard Config.logLevels.contains(raw) else {
                throw ConfigError(description: "MATHREEL_LOG_LEVEL must be one of \(Config.logLevels.joined(separator: ", ")); got '\(raw)'")
            }
            logLevel = raw
        }
        if let raw = env["MATHREEL_TRUSTED_PROXIES"] {
            trustedProxies = raw.split(separator: ",").map { String($0).trimmed() }.filter { !$0.isEmpty }
            for p in trustedProxies where AddressRange(p) == nil {
                throw ConfigError(description: "MATHREEL_TRUSTED_PROXIES must list addresses or CIDR ranges (like 127.0.0.1, 10.0.0.0/8, ::1); got '\(p)'")
            }
        }
        func address(_ key: String, _ example: String) throws -> ListenAddress? {
            guard let raw = env[key], !raw.isEmpty else { return nil }
            guard let a = ListenAddress(raw) else { throw ConfigError(description: "\(key) must be host:port, like \(example); got '\(raw)'") }
            return a
        }
        if let a = try address("MATHREEL_INGEST_ADDR", "127.0.0.1:8080") { ingestAddress = a }
        if let a = try address("MATHREEL_DELIVERY_ADDR", "127.0.0.1:8081") { deliveryAddress = a }
        publicURL = env["MATHREEL_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://\(deliveryAddress.urlHost):\(deliveryAddress.port)"
        while publicURL.hasSuffix("/") { publicURL.removeLast() }
        guard publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://") else {
            throw ConfigError(description: "MATHREEL_PUBLIC_URL must start with https:// (or http://); got '\(publicURL)'")
        }
        if let v = try Config.flag(env, "MATHREEL_DELIVER_INLINE") { deliverInline = v }
    }

    /// An on/off setting (on, true, yes, 1 / off, false, no, 0); nil when unset.
    static func flag(_ env: [String: String], _ key: String) throws -> Bool? {
        guard let raw = env[key], !raw.isEmpty else { return nil }
        switch raw.lowercased() {
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default: throw ConfigError(description: "\(key) must be on or off; got '\(raw)'")
        }
    }

    /// MATHREEL_PYTHON, else .venv/bin/python in a checkout (made by `make setup`), else the installed venv.
    public static func python(_ env: [String: String]) -> String {
        if let p = env["MATHREEL_PYTHON"], !p.isEmpty { return p }
        let fm = FileManager.default
        if fm.fileExists(atPath: ".venv/bin/python") || fm.fileExists(atPath: "Package.swift") { return ".venv/bin/python" }
        return "/opt/mathreel/venv/bin/python"
    }
}

/// A listening address, `host:port` (`[v6]:port`; `:port` means every interface).
public struct ListenAddress: Sendable, Equatable {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) { self.host = host; self.port = port }

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    /// The host as it goes in a URL: a v6 address in brackets, every-interface as loopback.
    public var urlHost: String {
        if host == "0.0.0.0" || host == "::" { return "127.0.0.1" }
        return host.contains(":") ? "[\(host)]" : host
    }
}
