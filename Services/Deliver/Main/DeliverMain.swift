// mathreel-deliver: stores rendered videos, issues one-time links, serves the watch
// page and tells people on their channel.
import ArgumentParser
import DeliverService
import MathreelDaemon

@main
struct DeliverMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mathreel-deliver", abstract: "Deliver the videos in the spool's deliver/ directory as one-time links.")
    @OptionGroup var options: DaemonOptions

    func run() async throws {
        Daemon.prepare(name: "deliver")
        try await DeliverDaemon.run(config: try options.config())
    }
}
