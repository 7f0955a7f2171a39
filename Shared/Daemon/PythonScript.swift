// PythonScript: one run of a Python script that mathreel carries (the static
// check, the docs indexer) in the Manim environment's Python: isolated mode, a
// bare environment (no secret reaches it), rlimits, a deadline, the source on
// descriptor 3 (no length limit, unlike -c), stdin from memory, output in files.
#if canImport(Glibc)
import Glibc
#endif

public struct PythonScriptResult: Sendable {
    public let termination: Termination
    public let timedOut: Bool
    public let stdout: [UInt8]
    /// The last 64 KB of what it wrote to stderr.
    public let stderr: [UInt8]
}

public enum PythonScript {
    public static let environment = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent", "PYTHONDONTWRITEBYTECODE": "1",
                                     "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"]

    /// Starts `source` (it must be open as `script`, passed as descriptor 3) under prlimit: the
    /// caller owns the child and its descriptors. `cpuSeconds` nil: no CPU cap (a long-lived worker).
    public static func start(python: String, script: ScratchFile, arguments: [String] = [], memory: Int64, cpuSeconds: Int?,
                             stdin: Int32, stdout: Int32, stderr: Int32) throws -> ChildProcess {
        guard access(python, X_OK) == 0 else {
            throw ChildError(description: "the Manim environment's Python (\(python)) is missing; run `make setup` or set MATHREEL_PYTHON")
        }
        let limits = ["--as=\(memory)"] + (cpuSeconds.map { ["--cpu=\($0)"] } ?? []) + ["--fsize=\(64 << 20)", "--nofile=256", "--core=0", "--"]
        return try ChildProcess(path: "/usr/bin/prlimit", arguments: limits + [python, "-I", "-B", "/dev/fd/3"] + arguments,
                                environment: environment, stdin: stdin, stdout: stdout, stderr: stderr, passing: [script.fd], newSession: true)
    }

    /// One run to its end, at most `timeout` seconds.
    public static func run(python: String, source: [UInt8], arguments: [String] = [], input: [UInt8] = [], timeout: Double,
                           memory: Int64 = 4 << 30) async throws -> PythonScriptResult {
        let script = try ScratchFile(contents: source)
        let stdin = try ScratchFile(contents: input)
        let output = try ScratchFile(), errors = try ScratchFile()
        let child = try start(python: python, script: script, arguments: arguments, memory: memory, cpuSeconds: Int(timeout.rounded(.up)),
                              stdin: stdin.fd, stdout: output.fd, stderr: errors.fd)
        let (end, timedOut) = await child.wait(orKillAfter: timeout)
        return PythonScriptResult(termination: end, timedOut: timedOut, stdout: output.read(limit: 16 << 20), stderr: errors.tail(limit: 64 << 10))
    }
}
