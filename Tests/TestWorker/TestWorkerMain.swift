// mathreel-testworker: runs the no-op chain (or one hop of it) as a daemon, so
// tests can kill -9 it at random instants and race several of them; `--poison`
// makes a marked job's step kill its own worker, as a job that crashes it would.
import ArgumentParser
import Logging
import MathreelDaemon
import MathreelSpool
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@main
struct TestWorkerMain: AsyncParsableCommand {
    @OptionGroup var options: DaemonOptions
    @Option(help: "Run only the hop that consumes this queue (e.g. codegen).") var only: String?
    @Option var concurrency = 4
    @Option(help: "Random work per job, in microseconds (0 for none).") var workMicros = 0
    @Option(help: "A job whose problem contains this text kills its worker (SIGKILL) in its step.") var poison: String?

    func run() async throws {
        Daemon.prepare(name: "testworker")
        let config = try options.config()
        let spool = try Spool(root: config.spool)
        let logger = Logger(label: "testworker")
        let only = try self.only.map { name in
            guard let p = Place(path: name) else { throw ValidationError("unknown queue \(name)") }
            return p
        }
        var loops = NoOpChain.loops(spool: spool, only: only, concurrency: concurrency,
                                    workMicros: workMicros > 0 ? 0...workMicros : nil, logger: logger)
        if let poison {
            loops = loops.map { loop in
                WorkerLoop(spool: spool, queue: loop.queue, name: loop.name, concurrency: loop.concurrency, logger: logger) { claim in
                    if let job = try? claim.job(), job.problem?.contains(poison) == true { kill(getpid(), SIGKILL) }
                    return try await loop.step(claim)
                }
            }
        }
        try await Daemon.serve(loops, name: "testworker", logger: logger)
    }
}
