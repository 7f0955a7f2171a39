// The `mathreel-deliver` daemon: the deliver stage's worker loop, the watch site
// (Hummingbird, on MATHREEL_DELIVERY_ADDR), the messenger, the failed/ watcher and
// the link timers, run as services of one group with graceful shutdown.
// READY=1 comes once the loop has scanned, the site listens and failed/ was read.
import Logging
import MathreelChat
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem
import MathreelWeb
import NIOCore
import NIOPosix

public enum DeliverDaemon {
    public static func run(config: Config) async throws {
        // Swift tasks run on NIO's event loops instead of a pool of their own: a video
        // body's buffers then reach the socket without a thread hop each.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let logger = Logger(label: "deliver")
        let spool = try Spool(root: config.spool)
        guard PlainDirectory.makeIfMissing(config.videosPath) else {
            throw FileError("create \(config.videosPath) (check MATHREEL_STATE and its permissions)")
        }
        let store = try LinkStore(state: config.state)
        if let aside = store.setAside {
            logger.error("the links database was damaged: set aside and started anew (links issued before are lost; their videos expire as unused)",
                         metadata: ["set_aside": "\(aside)"])
        }
        let ledger = AccessLedger(spool: spool, store: store, logger: logger, settle: config.lifetimes.accessSettle)
        let channels = Channels(settings: ChannelSettings(environment: config.environment))
        let messenger = Messenger(store: store, spool: spool, channels: channels, config: config, ledger: ledger, logger: logger)
        var deliverer = Deliverer(spool: spool, config: config, store: store, logger: logger)
        deliverer.onNoticeOwed = { messenger.wake() }
        let failures = FailureNotices(spool: spool, store: store, logger: logger, onOwed: { messenger.wake() })
        let address = config.deliveryAddress
        let readiness = Readiness(parts: 3, status: "deliver serving links at \(config.publicURL)", logger: logger)
        let site = WatchSite(store: store, spool: spool, ledger: ledger, videos: deliverer.videos, ready: config.lifetimes.ready, logger: logger)
        let app = WebServer.application(router: site.router(), address: address, readiness: readiness, what: "watch site", logger: logger,
                                         metadata: ["public_url": "\(config.publicURL)"], maxConnections: config.maxConnections, idleTimeout: config.httpIdleTimeout)
        for channel in [Channel.telegram, .whatsapp] {
            if let missing = channels.missingSettings(channel) {
                logger.info("\(channel.rawValue) notices are off", metadata: ["reason": "\(missing)"])
            }
        }
        logger.info("starting", metadata: ["spool": "\(spool.root)", "state": "\(config.state)", "address": "\(address.host):\(address.port)",
                                            "inline": "\(config.deliverInline)"])
        try await Daemon.serve([deliverer.loop()], extra: [
            app, messenger,
            WatchService(path: spool.path(.failed), onFirstScan: { readiness.partReady() }) { failures.owe($0) },
            LinkTimers(ledger: ledger, store: store, grace: config.lifetimes.accessGrace, keep: config.lifetimes.done, logger: logger),
        ], readiness: readiness, name: "deliver", logger: logger)
        logger.info("stopped")
    }
}
