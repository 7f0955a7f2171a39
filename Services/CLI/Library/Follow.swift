// Following a job to its end for `submit --wait` and `mathreel follow`: polls where the job is,
// reports each change of place, status or progress on stderr, and decides the
// exit: 0 ready (link and video on stdout), 1 failed, 124 timed out.
import ArgumentParser
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool

struct Follower {
    let spool: Spool
    let id: String
    let timeout: Double
    var interval: Double = 0.2
    /// How long a job may sit in incoming/ before we suspect no ingest daemon runs.
    var ingestHint: Double = 10

    func follow() async -> Int32 {
        let start = Date()
        var last: String?
        var inIncomingSince: Date?
        var hinted = false
        var missingSince: Date?
        var lastSeen: FoundJob?

        while true {
            if let found = spool.find(id) {
                missingSince = nil
                lastSeen = found
                let line = describe(found)
                if line != last {
                    Out.err(line)
                    last = line
                }
                switch found.place {
                case .ready, .done:
                    return finished(found)
                case .failed:
                    return failed(found)
                case .incoming:
                    let since = inIncomingSince ?? Date()
                    inIncomingSince = since
                    if !hinted && Date().timeIntervalSince(since) >= ingestHint {
                        hinted = true
                        Out.err("the job has waited \(Int(ingestHint)) s in incoming/ and nothing has taken it: is mathreel-ingest running? start `mathreel up` (with the same --spool) in another terminal.")
                    }
                default:
                    inIncomingSince = nil
                }
            } else {
                let since = missingSince ?? Date()
                missingSince = since
                if Date().timeIntervalSince(since) >= 2 {
                    if let reason = spool.quarantineReason(id) {
                        Out.err("mathreel: job \(id) was set aside as not a job:\n" + reason)
                        return 1
                    }
                    Out.err("mathreel: job \(id) is no longer in the spool at \(spool.absoluteRoot)" +
                            (lastSeen.map { " (it was last in \($0.place.path)/)" } ?? "") +
                            ". Finished jobs are removed after their lifetime; see the daemons' logs.")
                    return 1
                }
            }
            if Date().timeIntervalSince(start) >= timeout {
                let where_ = lastSeen.map { "it is in \($0.place.path)/ (\(Words.meaning($0.place)), status \($0.status)\($0.progress.map { ", \($0)%" } ?? ""))" } ?? "it was not found"
                Out.err("mathreel: gave up waiting after \(Int(timeout)) s: job \(id) has not finished; \(where_). It goes on without you: follow it with `mathreel status \(id)`.")
                return Exit.timedOut
            }
            try? await Task.sleep(for: .seconds(interval))
        }
    }

    func describe(_ found: FoundJob) -> String {
        let progress = found.progress.map { " \($0)%" } ?? ""
        let stage = found.job?.stage.flatMap { $0.rawValue == found.status ? nil : ", \($0.rawValue)" } ?? ""
        let scenes = found.job.flatMap(Words.scenes).map { "; scenes: \($0)" } ?? ""
        return "\(found.place.path)/: \(found.status)\(progress)\(stage) (\(Words.meaning(found.place)))\(scenes)"
    }

    func finished(_ found: FoundJob) -> Int32 {
        let d = Delivered(found, spool: spool)
        if let url = d.url { Out.line("link: \(url)") }
        if let path = d.path {
            let there = FileManager.default.fileExists(atPath: path)
            Out.line("video: \(path)" + (there ? "" : " (already deleted)"))
        }
        if d.url == nil && d.path == nil {
            Out.err("the job is \(found.place == .done ? "done" : "ready"), but it records no link or video path yet.")
        }
        return 0
    }

    func failed(_ found: FoundJob) -> Int32 {
        let error = found.job?.error ?? found.object?["error"]?.objectValue.flatMap { e in
            e["message"]?.stringValue.map { JobError(stage: e["stage"]?.stringValue ?? "", code: e["code"]?.stringValue ?? "", message: $0) }
        }
        if let error {
            Out.err("mathreel: the job failed: \(error.message)" + (error.code.isEmpty ? "" : " (\(error.code)\(error.stage.isEmpty ? "" : " in \(error.stage)"))"))
        } else {
            Out.err("mathreel: the job failed (\(found.status)) without saying why; see `mathreel status \(id)`.")
        }
        Out.err("To try it again: mathreel retry \(id)")
        return 1
    }
}

/// `mathreel follow ID`: what `submit --wait` does, for a job already submitted.
struct Follow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow a job to its end, a line for each change (its stage and its scenes, for a lesson).",
        discussion: "Exits 0 when the job is ready (its link and video on stdout), 1 when it failed, 124 when --timeout passed first.")

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The job's id, as `mathreel submit` printed it.")
    var id: String
    @Option(help: ArgumentHelp("Give up after this many seconds.", valueName: "seconds"))
    var timeout: Double = 900

    func run() async throws {
        let id = try jobID(self.id)
        let spool = try daemon.openSpool(try daemon.loadConfig(), create: false)
        let code = await Follower(spool: spool, id: id, timeout: timeout).follow()
        if code != 0 { throw ExitCode(code) }
    }
}
