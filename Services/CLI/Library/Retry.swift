// `mathreel retry ID`: re-submits a job that failed or expired. It claims the
// file from failed/ like any worker, resets it to queued with a fresh count of
// tries, and hands it on to incoming/, where ingest validates and routes it.
import ArgumentParser
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool

struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Re-submit a failed or expired job.")

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The job's id.")
    var id: String

    func run() async throws {
        let id = try jobID(self.id)
        let spool = try daemon.openSpool(try daemon.loadConfig(), create: false)
        guard let found = spool.find(id) else {
            throw failure(1, "no job with id \(id) in \(spool.absoluteRoot). Failed jobs are kept 24 h; after that, submit the problem again.")
        }
        guard found.place == .failed else {
            throw failure(1, "job \(id) is \(found.status) (in \(found.place.path)/: \(Words.meaning(found.place))); only failed or expired jobs can be retried.")
        }
        if let reason = DiskGuard.raisedReason(spool) {
            throw failure(Exit.tempFail, "the job was not retried: \(reason)")
        }
        switch spool.claim(FileName(id + ".json"), from: .failed) {
        case .lost:
            throw failure(1, "job \(id) left failed/ just now (the janitor may have removed it); see `mathreel status \(id)`.")
        case .busy:
            throw failure(Exit.tempFail, "job \(id) is being handled by another process right now; try again in a moment.")
        case .quarantined(let reason):
            throw failure(1, "the file of job \(id) is not a job, so it was set aside in quarantine/: \(reason)")
        case .claimed(let claim):
            var job: Job
            do { job = try claim.job() } catch {
                try? claim.putBack()
                throw failure(1, "job \(id) cannot be retried: its file cannot be read (\(error)). Submit the problem again instead.")
            }
            guard job.status == .failed || job.status == .expired else {
                try? claim.putBack()
                throw failure(1, "job \(id) is \(job.status.rawValue); only failed or expired jobs can be retried.")
            }
            let was = job.error.map { " after \($0.code)" } ?? ""
            job.error = nil
            job.attempts = [:]
            job.crashes = [:]
            // A link of an expired job is dead; a new one comes when it is ready again.
            job.delivery = nil
            job.record(.queued, by: "cli", note: "retried by hand\(was)")
            do { try claim.handOn(job, to: .incoming) } catch {
                throw failure(1, "could not move job \(id) back to incoming/ (\(error)); recovery (the janitor) finishes or undoes the move. Run `mathreel doctor` to check the spool.")
            }
            Out.line("job \(id) is queued again; follow it with: mathreel status \(id)")
        }
    }
}
