// mathreel-render: turns the Manim code of jobs in render/ into videos, in a sandbox.
import ArgumentParser
import MathreelDaemon
import RenderService

@main
struct RenderMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mathreel-render", abstract: "Render the jobs in the spool's render/ directory, each in a sandbox.")
    @OptionGroup var options: DaemonOptions

    func run() async throws {
        Daemon.prepare(name: "render")
        try await RenderDaemon.run(config: try options.config())
    }
}
