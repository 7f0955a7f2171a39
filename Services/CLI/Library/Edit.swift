// `mathreel edit ID --scene N TEXT [--wait]`: a new version of a lesson with scene N
// written again as TEXT asks (Shared/Spool/Edit.swift makes it); prints the new job's
// id, and with --wait follows it to its link like `submit --wait`.
import ArgumentParser
import MathreelCore
import MathreelDaemon
import MathreelSpool

struct Edit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a new version of a lesson with one scene changed.",
        discussion: """
            Prints the new job's id on the first line. Without a model the built-in editor understands: \
            slower, faster, larger, smaller, a colour, show each step; anything else needs a model (README, "Models").
            """)

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The lesson's job id.")
    var id: String
    @Option(help: ArgumentHelp("The scene to change, from 1.", valueName: "n"))
    var scene: Int
    @Argument(help: "What to change in that scene, in words.")
    var text: [String]
    @Flag(help: "Wait for the new version and print its link and video path.")
    var wait = false
    @Option(help: ArgumentHelp("With --wait: give up after this many seconds.", valueName: "seconds"))
    var timeout: Double = 900

    func run() async throws {
        let parent = try jobID(id)
        let spool = try daemon.openSpool(try daemon.loadConfig(), create: false)
        let job: Job
        do {
            job = try spool.makeEdit(of: parent, scene: scene, prompt: text.joined(separator: " "), origin: JobOrigin(channel: .file), by: "cli")
        } catch let refusal as EditRefusal {
            throw failure(Exit.invalid, "the edit was not made: \(refusal.message) (\(refusal.code))")
        }
        do { try spool.submit(job, to: .codegen) } catch {
            _ = spool.removeArtifacts(job.id)
            throw failure(1, "the edit was not submitted: could not write it into \(spool.path(.codegen)) (\(error)). Run `mathreel doctor` to check the spool.")
        }
        Out.line(job.id)
        guard wait else { return }
        let code = await Follower(spool: spool, id: job.id, timeout: timeout).follow()
        if code != 0 { throw ExitCode(code) }
    }
}
