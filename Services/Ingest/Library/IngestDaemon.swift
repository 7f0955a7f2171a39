// The `mathreel-ingest` daemon: the incoming/ worker loop and the web side
// (Hummingbird, on MATHREEL_INGEST_ADDR) as services of one group with graceful
// shutdown. READY=1 comes once the loop has scanned and the site listens.
import Hummingbird
import Logging
import MathreelChat
import MathreelCheck
import MathreelCore
import MathreelDaemon
import MathreelSessions
import MathreelSpool

public enum IngestDaemon {
    public static func run(config: Config) async throws {
        let logger = Logger(label: "ingest")
        let spool = try Spool(root: config.spool)
        guard Spool.makeDirectoriesIfMissing(config.state) else {
            throw SpoolError("create \(config.state) (check MATHREEL_STATE and its permissions)")
        }
        let sessions = try SessionStore(state: config.state)
        let files = FileIngest(spool: spool, config: config, logger: logger)
        let site = try IngestSite(config: config, spool: spool, sessions: sessions, logger: logger)
        let address = config.ingestAddress
        let readiness = Readiness(parts: 2, status: "ingest taking jobs from incoming/ and http://\(address.urlHost):\(address.port)", logger: logger)
        let app = Application(
            router: site.router(),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                logger.info("web side listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                readiness.partReady()
            },
            logger: logger)
        for (key, what) in [("TELEGRAM_SECRET_TOKEN", "Telegram webhooks are refused (401)"), ("WHATSAPP_APP_SECRET", "WhatsApp notifications are refused (401)")]
        where (config.environment[key] ?? "").isEmpty {
            logger.info("\(key) is not set: \(what)")
        }
        logger.info("starting", metadata: ["spool": "\(spool.root)", "state": "\(config.state)", "address": "\(address.host):\(address.port)"])
        try await Daemon.serve([files.loop()], extra: [app], readiness: readiness, name: "ingest", logger: logger)
        logger.info("stopped")
    }
}

extension IngestSite {
    public init(config: Config, spool: Spool, sessions: SessionStore, logger: Logger) throws {
        let env = config.environment
        func value(_ key: String) -> String? { env[key].flatMap { $0.isEmpty ? nil : $0 } }
        let intake = try Intake(spool: spool, sessions: sessions, config: config, logger: logger)
        let desk = ChatDesk(intake: intake, spool: spool, sessions: sessions,
                            replies: Replies(channels: Channels(settings: ChannelSettings(environment: env)), logger: logger), logger: logger)
        self.init(intake: intake,
                  telegram: TelegramWebhook(secret: value("TELEGRAM_SECRET_TOKEN"), desk: desk, sessions: sessions,
                                            botName: value("TELEGRAM_BOT_USERNAME").map { $0.hasPrefix("@") ? String($0.dropFirst()) : $0 }, logger: logger),
                  whatsapp: WhatsAppWebhook(appSecret: value("WHATSAPP_APP_SECRET"), verifyToken: value("WHATSAPP_VERIFY_TOKEN"), desk: desk,
                                            sessions: sessions, logger: logger),
                  spool: spool, sessions: sessions, checker: StaticChecker(config: config), metrics: Metrics(),
                  apiSecret: value("MATHREEL_API_SECRET"), replay: ReplayGuard(), logger: logger)
    }
}
