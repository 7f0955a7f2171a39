// `mathreel submit`: builds the job a person would write, validates it exactly
// as ingest does, publishes it durably into incoming/ and prints its id alone on
// the first line; with --wait it then follows the job to its end (Follow.swift).
import ArgumentParser
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit a math problem, or your own Manim code, as a new job.",
        discussion: """
            Prints the new job's id alone on the first line. With --wait, follows the job: exits 0 when the \
            video is ready (printing its link and local path), 1 with the job's error when it failed, \
            124 when --timeout passes first.
            """)

    @OptionGroup var daemon: DaemonOptions
    @Option(help: "The math problem, as text (10 to 5000 characters).")
    var problem: String?
    @Option(help: ArgumentHelp("A file of Manim source to render instead of a problem ('-' reads standard input).", valueName: "file"))
    var code: String?
    @Option(help: "low (480p15), medium (720p30) or high (1080p60); default: $MATHREEL_DEFAULT_QUALITY, else low.")
    var quality: String?
    @Option(help: "mp4 or webm.")
    var format: String?
    @Option(help: ArgumentHelp("A lesson's scenes: auto (the default), or 1 to 8; 1 is one scene, no lesson.", valueName: "n"))
    var scenes: String?
    @Flag(help: "Wait for the job to finish and print its link and video path.")
    var wait = false
    @Option(help: ArgumentHelp("With --wait: give up after this many seconds.", valueName: "seconds"))
    var timeout: Double = 900

    func run() async throws {
        let config = try daemon.loadConfig()
        let job = try makeJob(config)
        let spool = try daemon.openSpool(config, create: true)
        do {
            try spool.submit(job, to: .incoming)
        } catch let full as DiskFull {
            throw failure(Exit.tempFail, "the job was not submitted: \(full.message)")
        } catch {
            throw failure(1, "the job was not submitted: could not write it into \(spool.path(.incoming)) (\(error)). Run `mathreel doctor` to check the spool.")
        }
        Out.line(job.id)
        guard wait else { return }
        let code = await Follower(spool: spool, id: job.id, timeout: timeout).follow()
        if code != 0 { throw ExitCode(code) }
    }

    /// The JSON object a person would write, read back through ingest's own validation.
    func makeJob(_ config: Config) throws -> Job {
        var object: JSONObject = [:]
        switch (problem, code) {
        case (nil, nil):
            throw failure(Exit.invalid, "say what to animate: --problem \"Solve x^2 - 5x + 6 = 0\", or --code scene.py for your own Manim code.")
        case (.some, .some):
            throw failure(Exit.invalid, "give either --problem or --code, not both.")
        case (let p?, nil):
            object["problem"] = .string(p)
        case (nil, let file?):
            object["code"] = .string(try readCode(file))
        }
        var options: JSONObject = [:]
        if let quality { options["quality"] = .string(quality) }
        if let format { options["format"] = .string(format) }
        if let scenes { options["scenes"] = Int(scenes).map { .int(Int64($0)) } ?? .string(scenes) }
        if !options.isEmpty { object["options"] = .object(options) }

        var job: Job
        do {
            job = try Job.intake(JSONValue.object(object).serialized(),
                                 JobIntake(id: JobID.make(), channel: .file, defaultQuality: config.defaultQuality))
        } catch let invalid as JobInvalid {
            throw failure(Exit.invalid, "the job was not submitted:\n" + invalid.problems.map { "  - " + $0 }.joined(separator: "\n"))
        }
        if job.kind == .code && !config.directCode {
            throw failure(Exit.invalid, "the job was not submitted: this server does not accept Manim code from people (MATHREEL_DIRECT_CODE=off). Send the math problem with --problem instead.")
        }
        job.record(.queued, by: "cli", note: "submitted with mathreel submit")
        return job
    }

    /// The --code file's text ('-' is standard input), refused early when it is far too large.
    func readCode(_ file: String) throws -> String {
        let limit = Job.maxCodeBytes * 4
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readData(ofLength: limit + 1)
        } else {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDir) else {
                throw failure(Exit.invalid, "there is no file '\(file)' to read the Manim code from. Give the path of your scene's .py file, or '-' to read it from standard input.")
            }
            if isDir.boolValue { throw failure(Exit.invalid, "'\(file)' is a directory; --code needs the .py file of your scene.") }
            guard let handle = FileHandle(forReadingAtPath: file) else {
                throw failure(Exit.invalid, "cannot read '\(file)' (permission denied?). Check that you may read it.")
            }
            defer { try? handle.close() }
            data = handle.readData(ofLength: limit + 1)
        }
        if data.count > limit {
            throw failure(Exit.invalid, "the job was not submitted:\n  - `code` is too large (more than \(limit / 1024) KB); Manim source may be at most \(Job.maxCodeBytes / 1024) KB")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw failure(Exit.invalid, "'\(file)' is not UTF-8 text; --code needs Manim (Python) source.")
        }
        return text
    }
}
