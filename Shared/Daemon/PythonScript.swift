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

    public static func run(python: String, source: [UInt8], arguments: [String] = [], input: [UInt8] = [], timeout: Double,
                           memory: Int64 = 4 << 30) async throws -> PythonScriptResult {
        guard access(python, X_OK) == 0 else {
            throw ChildError(description: "the Manim environment's Python (\(python)) is missing; run `make setup` or set MATHREEL_PYTHON")
        }
        let script = try ScratchFile(contents: source)
        let stdin = try ScratchFile(contents: input)
        let output = try ScratchFile(), errors = try ScratchFile()
        let args = ["--as=\(memory)", "--cpu=\(Int(timeout.rounded(.up)))", "--fsize=\(64 << 20)", "--nofile=256", "--core=0", "--",
                    python, "-I", "-B", "/dev/fd/3"] + arguments
        let child = try ChildProcess(path: "/usr/bin/prlimit", arguments: args, environment: environment,
                                     stdin: stdin.fd, stdout: output.fd, stderr: errors.fd, passing: [script.fd], newSession: true)
        let (end, timedOut) = await child.wait(orKillAfter: timeout)
        return PythonScriptResult(termination: end, timedOut: timedOut, stdout: output.read(limit: 16 << 20), stderr: errors.tail(limit: 64 << 10))
    }
}
