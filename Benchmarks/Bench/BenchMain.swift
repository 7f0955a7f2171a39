// mathreel-bench: the figures `make bench` prints. Each section names its target.
import ArgumentParser
import Foundation
import MathreelDaemon

@main
struct BenchMain: AsyncParsableCommand {
    @Option(help: "Where the built daemons are (release build).") var binDir = ".build/release"
    @Option(help: "Jobs sent through the no-op chain.") var jobs = 3_000
    @Option(help: "Concurrent claims per stage in the throughput run.") var concurrency = 16
    @Option(help: "Where the benchmark's spool lives (its filesystem is what is measured).") var dir = "/tmp"
    @Option(help: "Run one section only: spool, render, lesson, codegen, deliver, ingest or idle.") var only: String?

    func run() async throws {
        // Daemons the bench starts listen where the kernel says: no clash with a running mathreel.
        setenv("MATHREEL_INGEST_ADDR", "127.0.0.1:0", 0)
        Daemon.prepare(name: "bench")
        print("mathreel bench — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Date())")
        // Ingest first: the other sections delete tens of thousands of files, and ext4
        // without a journal skips inodes freed in the last minutes on every create.
        // That debris is the bench's own, not a webhook load's.
        if only == nil || only == "ingest" { try await runIngestBench(binDir: binDir, under: dir) }
        if only == nil || only == "spool" { try await spoolSection() }
        let configured = ProcessInfo.processInfo.environment["MATHREEL_PYTHON"] ?? ".venv/bin/python"
        let python = configured.hasPrefix("/") ? configured : FileManager.default.currentDirectoryPath + "/" + configured
        if only == nil || only == "render" {
            print("")
            try await runRenderBench(binDir: binDir, python: python)
        }
        if only == nil || only == "lesson" {
            print("")
            try await runLessonBench(binDir: binDir, python: python)
        }
        if only == nil || only == "codegen" {
            print("")
            try await runCodegenBench(binDir: binDir, python: python)
        }
        if only == nil || only == "deliver" {
            print("")
            try await runDeliverBench(binDir: binDir, python: python)
        }
        if only == nil || only == "idle" { try await idleSection() }
    }

    func spoolSection() async throws {
        print("")
        print("Spool: jobs through five no-op stages, every hand-on durable (fsync of the new file, then of both directories)")
        print("  spool under \(dir)")
        _ = try await runChain(jobs: 200, concurrency: concurrency, under: dir) // warm-up
        let light = try await runChain(jobs: jobs / 3, concurrency: 1, under: dir)
        let lp50 = percentile(light.handOns, 0.5), lp99 = percentile(light.handOns, 0.99)
        print(String(format: "  hand-on latency, one claim per stage:  p50 %.2f ms  p99 %.2f ms  (%d hand-ons)", lp50, lp99, light.handOns.count)
              + "   target p50 <= 2 ms: " + (lp50 <= 2 ? "met" : "MISSED"))
        let r = try await runChain(jobs: jobs, concurrency: concurrency, under: dir)
        let p50 = percentile(r.handOns, 0.5), p99 = percentile(r.handOns, 0.99)
        let rate = Double(r.jobs) / r.seconds
        print(String(format: "  end to end, %d claims per stage:      %.0f jobs/s (%d jobs in %.2f s)", concurrency, rate, r.jobs, r.seconds)
              + "   target >= 500 jobs/s: " + (rate >= 500 ? "met" : "MISSED"))
        print(String(format: "  hand-on latency under that load:      p50 %.2f ms  p99 %.2f ms", p50, p99))
    }

    func idleSection() async throws {
        print("")
        print("Idle daemons: resident memory after 3 s on an empty spool (target < 20 MB)")
        for daemon in ["mathreel-ingest", "mathreel-janitor", "mathreel-codegen", "mathreel-render", "mathreel-deliver"] {
            let path = binDir + "/" + daemon
            guard FileManager.default.isExecutableFile(atPath: path) else { print("  \(daemon): not built yet"); continue }
            if let kb = try await idleRSS(binary: path) {
                let mb = Double(kb) / 1024
                print("  " + daemon.padding(toLength: 18, withPad: " ", startingAt: 0)
                      + String(format: "%.1f MB   ", mb) + (mb < 20 ? "met" : "MISSED"))
            } else {
                print("  \(daemon): could not read its memory")
            }
        }
    }
}
