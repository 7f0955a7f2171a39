// mathreel-janitor: applies the spool's lifetimes, deletes watched videos at once,
// recovers orphan claims and raises the disk guard when space runs low.
import ArgumentParser
import JanitorService
import MathreelDaemon

@main
struct JanitorMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mathreel-janitor",
        abstract: "Expire and delete what the spool's lifetimes say, delete videos once watched, and guard the disk.")
    @OptionGroup var options: DaemonOptions

    func run() async throws {
        Daemon.prepare(name: "janitor")
        try await JanitorDaemon.run(config: try options.config())
    }
}
