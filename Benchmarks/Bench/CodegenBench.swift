// The offline solver's figures for `make bench`: problems of every family sent
// through a running mathreel-codegen with no provider configured (a fresh
// install), the time from claim to code, and the share answered correctly as
// judged by Tests/Solver/check_solver.py's own, independent checks.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

func runCodegenBench(binDir: String, python: String) async throws {
    print("Offline solver: problems through codegen/ until render/ (no provider configured)")
    guard FileManager.default.isExecutableFile(atPath: binDir + "/mathreel-codegen") else { print("  mathreel-codegen: not built"); return }
    let judge = "Tests/Solver/check_solver.py"
    let list = try await pythonJSON(python, [judge, "--list"])
    guard case .array(let cases)? = list else { print("  could not read the problem set from \(judge)"); return }
    // A job's problem has 10 to 5,000 characters (docs/PROTOCOL.md): shorter ones never reach codegen.
    let problems = cases.compactMap { $0.objectValue?["problem"]?.stringValue }.filter { $0.count >= 10 }

    let root = tempDirectory("codegen")
    defer { try? FileManager.default.removeItem(atPath: root) }
    let spool = try Spool(root: root + "/spool")
    var env = ProcessInfo.processInfo.environment
    env["MATHREEL_PYTHON"] = python
    env["MATHREEL_LOG_LEVEL"] = "error"
    env["MATHREEL_PROVIDERS"] = "offline"
    let devnull = open("/dev/null", O_WRONLY)
    defer { close(devnull) }
    let daemon = try ChildProcess(path: binDir + "/mathreel-codegen", arguments: ["--spool", root + "/spool", "--state", root + "/state"],
                                  environment: env, stdout: devnull, stderr: devnull, newSession: true)
    defer { daemon.signal(SIGKILL) }
    try await Task.sleep(for: .seconds(4))  // the solver's SymPy import and the check's first run

    // One at a time, as people arrive: each job's time is its own.
    var claimToCode: [Double] = [], wall: [Double] = []
    var answers: [JSONValue] = []
    for problem in problems {
        var job = Job(kind: .problem, problem: problem, origin: JobOrigin(channel: .file))
        job.record(.queued, by: "bench")
        let start = ContinuousClock.now
        try spool.submit(job, to: .codegen)
        let name = FileName(job.id + ".json")
        while spool.info(.render, name) == nil && spool.info(.failed, name) == nil && spool.info(.quarantine, name) == nil {
            try await Task.sleep(for: .milliseconds(1))
        }
        wall.append((ContinuousClock.now - start).seconds * 1000)
        let done = (spool.peek(.render, name) ?? spool.peek(.failed, name)).flatMap { try? Job.decode($0) }
        if let t = done?.codegen?.json["timings"]?.objectValue?["total_s"]?.doubleValue { claimToCode.append(t * 1000) }
        answers.append(.object(["problem": .string(problem), "answer": done?.codegen?.json["answer"] ?? .null]))
    }
    daemon.signal(SIGTERM)
    _ = await daemon.wait(timeout: 15)

    let answersFile = root + "/answers.json"
    try JSONValue.array(answers).serialized(pretty: false).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: answersFile)) }
    guard case .object(let verdict)? = try await pythonJSON(python, [judge, "--judge", answersFile]),
          let correct = verdict["correct"]?.intValue, verdict["total"] != nil else {
        print("  the judge gave no verdict"); return
    }
    let p50 = percentile(claimToCode.sorted(), 0.5), p99 = percentile(claimToCode.sorted(), 0.99), w50 = percentile(wall.sorted(), 0.5)
    print(String(format: "  claim to code: p50 %.1f ms  p99 %.1f ms  (submit to render/: p50 %.1f ms; %d problems)", p50, p99, w50, problems.count)
          + "   target < 100 ms: " + (p50 < 100 ? "met" : "MISSED"))
    let total = problems.count
    let share = Double(correct) / Double(total)
    print(String(format: "  answered correctly: %d of %d (%.1f %%) across %d families", correct, total, share * 100,
                 Set(cases.compactMap { $0.objectValue?["family"]?.stringValue }).count)
          + "   target >= 95 %: " + (share >= 0.95 ? "met" : "MISSED"))
    if let held = verdict["held_out"]?.objectValue, let c = held["correct"]?.intValue, let t = held["total"]?.intValue, t > 0 {
        print(String(format: "    of them written apart from the solver, in wordings it was not tuned on: %d of %d (%.1f %%)", c, t, Double(c) / Double(t) * 100))
    }
    if case .array(let wrong)? = verdict["wrong"], !wrong.isEmpty {
        for w in wrong.prefix(10) { print("    wrong: \(w.objectValue?["problem"]?.stringValue ?? "?") -> \(w.objectValue?["answer"]?.stringValue ?? "no answer")") }
    }
}

/// Runs a Python script of the checkout and reads its stdout as JSON.
func pythonJSON(_ python: String, _ args: [String]) async throws -> JSONValue? {
    let out = try ScratchFile()
    let devnull = open("/dev/null", O_WRONLY)
    defer { close(devnull) }
    let child = try ChildProcess(path: python, arguments: args, environment: ProcessInfo.processInfo.environment, stdout: out.fd, stderr: devnull, newSession: true)
    let (end, _) = await child.wait(orKillAfter: 600)
    guard end.succeeded else { return nil }
    return try? JSONValue.parse(out.read(limit: 16 << 20))
}
