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
        do {
            _ = try spool.requeue(id, by: "cli", note: "retried by hand")
        } catch {
            switch error {
            case .notFound:
                throw failure(1, "no job with id \(id) in \(spool.absoluteRoot). Failed jobs are kept 24 h; after that, submit the problem again.")
            case .notFailed(let found):
                throw failure(1, "job \(id) is \(found.status) (in \(found.place.path)/: \(Words.meaning(found.place))); only failed or expired jobs can be retried.")
            case .diskFull(let reason):
                throw failure(Exit.tempFail, "the job was not retried: \(reason)")
            case .lost:
                throw failure(1, "job \(id) left failed/ just now (the janitor may have removed it); see `mathreel status \(id)`.")
            case .busy:
                throw failure(Exit.tempFail, "job \(id) is being handled by another process right now; try again in a moment.")
            case .quarantined(let reason):
                throw failure(1, "the file of job \(id) is not a job, so it was set aside in quarantine/: \(reason)")
            case .unreadable(let why):
                throw failure(1, "job \(id) cannot be retried: its file cannot be read (\(why)). Submit the problem again instead.")
            case .moveFailed(let why):
                throw failure(1, "could not move job \(id) back to incoming/ (\(why)); recovery (the janitor) finishes or undoes the move. Run `mathreel doctor` to check the spool.")
            }
        }
        Out.line("job \(id) is queued again; follow it with: mathreel status \(id)")
    }
}
