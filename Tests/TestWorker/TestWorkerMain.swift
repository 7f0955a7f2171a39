// mathreel-testworker: runs the no-op chain (or one hop of it) as a daemon, so
// tests can kill -9 it at random instants and race several of them.
import ArgumentParser
import Logging
import MathreelDaemon
import MathreelSpool

@main
struct TestWorkerMain: AsyncParsableCommand {
    @OptionGroup var options: DaemonOptions
    @Option(help: "Run only the hop that consumes this queue (e.g. codegen).") var only: String?
    @Option var concurrency = 4
    @Option(help: "Random work per job, in microseconds (0 for none).") var workMicros = 0

    func run() async throws {
        Daemon.prepare(name: "testworker")
        let config = try options.config()
        let spool = try Spool(root: config.spool)
        let logger = Logger(label: "testworker")
        let only = try self.only.map { name in
            guard let p = Place(path: name) else { throw ValidationError("unknown queue \(name)") }
            return p
        }
        let loops = NoOpChain.loops(spool: spool, only: only, concurrency: concurrency,
                                    workMicros: workMicros > 0 ? 0...workMicros : nil, logger: logger)
        try await Daemon.serve(loops, name: "testworker", logger: logger)
    }
}
