// The `mathreel-janitor` daemon: a sweep timer (every lifetime, orphans, disk
// guard) and a done/ watcher (videos deleted on arrival), run as services with
// READY=1 after both have looked once, watchdog pings and graceful shutdown.
import Logging
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem
import ServiceLifecycle

/// Sweeps at start and every `config.janitorInterval` seconds; checks the disk guard
/// every few seconds in between, and ticks liveness each time it wakes.
struct SweepService: Service {
    let janitor: Janitor
    let liveness: Liveness
    let onFirstSweep: @Sendable () -> Void
    /// How often the cheap disk check runs between sweeps.
    var diskInterval: Double = 5

    func run() async throws {
        let interval = janitor.config.janitorInterval
        var nextSweep = 0.0
        var first = true
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            liveness.tick()
            let now = Date().timeIntervalSince1970
            if now >= nextSweep {
                await sweepOffPool()
                nextSweep = Date().timeIntervalSince1970 + interval
                if first { first = false; onFirstSweep() }
            } else {
                janitor.checkDisk()
            }
            let wait = max(0.01, min(diskInterval, nextSweep - Date().timeIntervalSince1970))
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(wait)) }
        }
    }

    /// A sweep is blocking file work; a thread of its own keeps the done/ watcher responsive.
    private func sweepOffPool() async {
        let janitor = self.janitor
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            do {
                try OSThread.start(name: "janitor sweep") {
                    janitor.sweep()
                    c.resume()
                }
            } catch {
                // No thread to be had (a task limit): sweep here rather than not at all.
                janitor.sweep()
                c.resume()
            }
        }
    }
}

public enum JanitorDaemon {
    /// The `mathreel-janitor` daemon, until SIGTERM or SIGINT.
    public static func run(config: Config) async throws {
        let logger = Logger(label: "janitor")
        let spool = try Spool(root: config.spool)
        let janitor = Janitor(spool: spool, config: config, logger: logger)
        let liveness = Liveness()
        let readiness = Readiness(parts: 2, status: "janitor sweeping every \(Lifetimes.words(config.janitorInterval))", logger: logger)
        logger.info("starting", metadata: ["spool": "\(spool.root)", "state": "\(config.state)",
                                            "interval_s": "\(config.janitorInterval)", "min_free_bytes": "\(config.minFreeBytes)"])
        try await Daemon.run([
            WatchdogService(liveness: liveness, logger: logger),
            SweepService(janitor: janitor, liveness: liveness, onFirstSweep: { readiness.partReady() }),
            // done/: each arriving job's video goes at once.
            WatchService(path: spool.path(.done), onFirstScan: { readiness.partReady() }) { janitor.videosAccessed($0) },
        ], logger: logger)
        logger.info("stopped")
    }
}
