// Daemon conventions shared by all five: --spool/--state over MATHREEL_*,
// a clean signal state, JSON logs, services run in one ServiceGroup that shuts
// down gracefully on SIGTERM/SIGINT, READY=1 and watchdog pings for systemd.
import ArgumentParser
import CMathreel
import Logging
import MathreelCore
import MathreelSpool
import ServiceLifecycle
import Synchronization
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

public struct DaemonOptions: ParsableArguments, Sendable {
    @Option(help: "The spool root (default: $MATHREEL_SPOOL, else ./spool).")
    public var spool: String?
    @Option(help: "The state root (default: $MATHREEL_STATE, else ./state).")
    public var state: String?

    public init() {}

    /// The environment's configuration with the command line's overrides.
    public func config(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Config {
        var config = try Config(environment: environment)
        if let spool { config.spool = spool }
        if let state { config.state = state }
        return config
    }
}

public enum Daemon {
    /// Call first in every daemon: a child of a careless parent may start with
    /// signals blocked, and a closed pipe must be an error, not a death.
    public static func prepare(name: String) {
        mr_reset_signal_mask()
        signal(SIGPIPE, SIG_IGN)
        Logs.bootstrap(daemon: name)
    }

    /// Runs the services until SIGTERM or SIGINT, then shuts them down gracefully.
    public static func run(_ services: [any Service], logger: Logger) async throws {
        var configs = services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        configs.append(.init(service: StoppingNotice(), successTerminationBehavior: .ignore))
        let group = ServiceGroup(configuration: .init(
            services: configs, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Tells systemd STOPPING=1 as soon as graceful shutdown begins.
struct StoppingNotice: Service {
    func run() async throws {
        try? await gracefulShutdown()
        Notifier().stopping()
    }
}

/// When the last of `count` parts is ready, says READY=1 once.
public final class Readiness: Sendable {
    private let remaining: Mutex<Int>
    private let notifier: Notifier
    private let status: String
    private let logger: Logger

    public init(parts: Int, status: String, notifier: Notifier = Notifier(), logger: Logger) {
        remaining = Mutex(parts); self.notifier = notifier; self.status = status; self.logger = logger
    }

    public func partReady() {
        let now = remaining.withLock { $0 -= 1; return $0 == 0 }
        if now {
            notifier.ready(status: status)
            logger.info("ready", metadata: ["status": "\(status)"])
        }
    }
}

/// Liveness proof for the watchdog: the main loops tick, the pinger checks.
public final class Liveness: Sendable {
    private let last = Mutex(Date())
    public init() {}
    public func tick() { last.withLock { $0 = Date() } }
    public var age: Double { last.withLock { Date().timeIntervalSince($0) } }
}

/// Pings WATCHDOG=1 at half systemd's interval, but only while the loops tick.
public struct WatchdogService: Service {
    let notifier: Notifier
    let liveness: Liveness
    let logger: Logger

    public init(notifier: Notifier = Notifier(), liveness: Liveness, logger: Logger) {
        self.notifier = notifier; self.liveness = liveness; self.logger = logger
    }

    public func run() async throws {
        guard let interval = notifier.watchdogInterval else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Loops tick at least every 5 s; three missed ticks mean a wedged loop.
            if liveness.age < max(interval * 2, 15) { notifier.watchdog() } else {
                logger.error("main loop has not ticked; withholding the watchdog ping", metadata: ["age_s": "\(Int(liveness.age))"])
            }
            try? await Task.sleep(for: .seconds(interval))
        }
    }
}

extension Daemon {
    /// Runs one or more worker loops as a daemon: READY=1 once every loop has
    /// scanned, watchdog pings while they tick, graceful shutdown on SIGTERM.
    /// `readiness`, when given, counts the loops' parts and those the extra services report.
    public static func serve(_ loops: [WorkerLoop], extra: [any Service] = [], readiness: Readiness? = nil,
                             name: String, logger: Logger) async throws {
        let liveness = Liveness()
        let readiness = readiness ?? Readiness(parts: loops.count, status: "\(name) serving", logger: logger)
        let services: [any Service] = [WatchdogService(liveness: liveness, logger: logger)] + extra + loops.map { loop in
            var loop = loop
            loop.onReady = { readiness.partReady() }
            loop.onTick = { liveness.tick() }
            return loop
        }
        try await run(services, logger: logger)
    }
}
