// NoOpChain: five worker loops that do nothing but hand each job on
// (incoming → codegen → render → deliver → ready → done). The crash tests and
// the benchmark drive the real spool protocol through it.
import Logging
import MathreelCore
import MathreelSpool
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

public enum NoOpChain {
    public static let hops: [(from: Place, to: Place)] = [
        (.incoming, .codegen), (.codegen, .render), (.render, .deliver), (.deliver, .ready), (.ready, .done),
    ]

    /// The loops of the chain; `only` keeps the hop that consumes that queue.
    /// Each step writes who took the job into its history, so tests can count claims.
    public static func loops(spool: Spool, only: Place? = nil, concurrency: Int, workMicros: ClosedRange<Int>? = nil,
                             logger: Logger, onHandOn: (@Sendable (Double) -> Void)? = nil) -> [WorkerLoop] {
        let pid = getpid()
        return hops.filter { only == nil || $0.from == only }.map { hop in
            WorkerLoop(spool: spool, queue: hop.from, name: "noop-\(hop.from.path)", concurrency: concurrency, logger: logger) { claim in
                var job = try claim.job()
                if let workMicros { try await Task.sleep(for: .microseconds(Int.random(in: workMicros))) }
                job.history.append(HistoryEntry(status: job.status.rawValue, by: "\(hop.from.path):\(pid)"))
                guard let onHandOn else { return .handOn(job, to: hop.to) }
                let onward = job
                let ms = try await BlockingIO.run {
                    let start = ContinuousClock.now
                    try claim.handOn(onward, to: hop.to)
                    return (ContinuousClock.now - start).seconds * 1e3
                }
                onHandOn(ms)
                return .handled
            }
        }
    }

    /// A minimal valid job waiting at the head of the chain.
    public static func sampleJob() -> Job {
        Job(kind: .problem, problem: "Solve x^2 - 5x + 6 = 0", origin: JobOrigin(channel: .file))
    }
}
