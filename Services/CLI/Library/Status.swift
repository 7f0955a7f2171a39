// `mathreel status ID [--json]`: where a job is, its status and progress, when it
// was made, its history, and its link or error, in plain words; --json prints
// the job file exactly as it is on disk.
import ArgumentParser
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show where a job is, its progress, and its link or error.")

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The job's id, as `mathreel submit` printed it.")
    var id: String
    @Flag(help: "Print the job file as it is.")
    var json = false

    func run() async throws {
        let id = try jobID(self.id)
        let spool = try daemon.openSpool(try daemon.loadConfig(), create: false)
        guard let found = spool.find(id) else {
            if let reason = spool.quarantineReason(id) {
                throw failure(1, "\(id) is not a job: a file of that name was set aside in quarantine/.\n" + reason)
            }
            throw failure(1, "no job with id \(id) in \(spool.absoluteRoot). Check the id, and --spool or MATHREEL_SPOOL; finished jobs are removed after their lifetime.")
        }
        if json {
            Out.write(1, String(decoding: found.bytes, as: UTF8.self))
            return
        }
        Out.line(Self.report(found, id: id, spool: spool))
    }

    static func report(_ found: FoundJob, id: String, spool: Spool) -> String {
        var lines = ["job \(id)"]
        func add(_ label: String, _ value: String) { lines.append("  " + (label + ":").padding(toLength: 10, withPad: " ", startingAt: 0) + value) }
        add("where", "\(found.place.path)/ (\(Words.meaning(found.place)))")
        if case .deferred = found.place, let due = found.mtime {
            add("next try", "in \(Words.age(due - Date().timeIntervalSince1970))")
        }
        add("status", found.status + (found.progress.map { " (\($0)%)" } ?? ""))
        if let job = found.job, let stage = job.stage {
            add("stage", stage.rawValue + (job.stages.last.map { " since \($0.at)" + ($0.note.map { ": \($0)" } ?? "") } ?? ""))
            if job.version > 1 { add("version", "\(job.version), an edit of \(job.parentID ?? "another job")") }
        }
        let o = found.object ?? [:]
        if let job = found.job {
            switch job.kind {
            case .problem: add("problem", Self.excerpt(job.problem ?? ""))
            case .code: add("code", "\(job.code?.utf8.count ?? 0) bytes of Manim source")
            }
            add("options", "\(job.options.quality.rawValue) quality, \(job.options.format.rawValue), at most \(job.options.maxDurationS) s")
            let ago = job.createdDate.map { " (\(Words.age(Date().timeIntervalSince($0))) ago)" } ?? ""
            add("created", job.createdAt + ago)
            if let answer = job.answer { add("answer", answer) }
            if job.plan != nil {
                add("lesson", "\(job.plan?.scenes.count ?? 0) scenes" + (job.degraded ? "; a scene that failed was replaced by its slate" : ""))
                lines += Words.sceneLines(job)
            }
        } else {
            add("note", "ingest has not read this file yet, so only what it says is shown")
            if let p = o["problem"]?.stringValue { add("problem", Self.excerpt(p)) }
        }
        let history = found.job?.history ?? []
        if !history.isEmpty {
            lines.append("  history:")
            for h in history {
                lines.append("    \(h.at)  \(h.status) by \(h.by)" + (h.note.map { ": \($0)" } ?? ""))
            }
        }
        let delivered = Delivered(found, spool: spool)
        if let url = delivered.url { add("link", url) }
        if let expires = found.job?.linkExpiresAt ?? o["delivery"]?.objectValue.map(DeliveryRecord.init(json:))?.expiresAt { add("expires", expires) }
        if let path = delivered.path {
            add("video", path + (FileManager.default.fileExists(atPath: path) ? "" : " (deleted)"))
        }
        if let e = found.job?.error {
            add("error", e.message)
            add("code", e.code + (e.stage.isEmpty ? "" : " (in \(e.stage))"))
            if found.place == .failed { lines.append("  retry it with: mathreel retry \(id)") }
        }
        return lines.joined(separator: "\n")
    }

    static func excerpt(_ s: String) -> String {
        let flat = s.replacingOccurrences(of: "\n", with: " ")
        return flat.count > 100 ? String(flat.prefix(100)) + "…" : flat
    }
}
