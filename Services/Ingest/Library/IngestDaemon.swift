// The `mathreel-ingest` daemon: the incoming/ worker loop and the web side
// (Hummingbird, on MATHREEL_INGEST_ADDR) as services of one group with graceful
// shutdown. READY=1 comes once the loop has scanned and the site listens.
import Logging
import MathreelCore
import MathreelDaemon
import MathreelSessions
import MathreelSpool
import MathreelWeb

public enum IngestDaemon {
    public static func run(config: Config) async throws {
        let logger = Logger(label: "ingest")
        let spool = try Spool(root: config.spool)
        let sessions = try SessionStore(state: config.state)
        if let aside = sessions.setAside {
            logger.error("the sessions database was damaged: set aside and started anew (sessions and their history are lost)",
                         metadata: ["set_aside": "\(aside)"])
        }
        let files = FileIngest(spool: spool, config: config, logger: logger)
        let site = try IngestSite(config: config, spool: spool, sessions: sessions, logger: logger)
        let address = config.ingestAddress
        let readiness = Readiness(parts: 2, status: "ingest taking jobs from incoming/ and http://\(address.urlHost):\(address.port)", logger: logger)
        let app = WebServer.application(router: site.router(), address: address, readiness: readiness, what: "web side", logger: logger,
                                        maxConnections: config.maxConnections, idleTimeout: config.httpIdleTimeout)
        for (key, what) in [("TELEGRAM_SECRET_TOKEN", "Telegram webhooks are refused (401)"), ("WHATSAPP_APP_SECRET", "WhatsApp notifications are refused (401)")]
        where (config.environment[key] ?? "").isEmpty {
            logger.info("\(key) is not set: \(what)")
        }
        logger.info("starting", metadata: ["spool": "\(spool.root)", "state": "\(config.state)", "address": "\(address.host):\(address.port)"])
        try await Daemon.serve([files.loop()], extra: [app], readiness: readiness, name: "ingest", logger: logger)
        logger.info("stopped")
    }
}
