// mathreel-ingest: takes new jobs from incoming/ (and, later, over HTTP).
import ArgumentParser
import IngestService
import MathreelDaemon

@main
struct IngestMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mathreel-ingest", abstract: "Take new jobs from the spool's incoming/ directory and route them.")
    @OptionGroup var options: DaemonOptions

    func run() async throws {
        Daemon.prepare(name: "ingest")
        try await FileIngest.runDaemon(config: try options.config())
    }
}
