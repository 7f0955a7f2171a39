// mathreel-codegen: writes the Manim code for the problems in codegen/.
import ArgumentParser
import CodegenService
import MathreelDaemon

@main
struct CodegenMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mathreel-codegen", abstract: "Write Manim code for the problems in the spool's codegen/ directory.")
    @OptionGroup var options: DaemonOptions

    func run() async throws {
        Daemon.prepare(name: "codegen")
        try await CodegenDaemon.run(config: try options.config())
    }
}
