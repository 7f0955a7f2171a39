// mathreel-ingest: takes new jobs from incoming/ and over HTTP (webhooks, API, web page).
import ArgumentParser
import IngestService
import MathreelDaemon

@main
struct IngestMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mathreel-ingest", abstract: "Take new jobs from the spool's incoming/ directory and over HTTP, and route them.")
    @OptionGroup var options: DaemonOptions

    func run() async throws {
        Daemon.prepare(name: "ingest")
        try await IngestDaemon.run(config: try options.config())
    }
}
