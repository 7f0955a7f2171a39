// Sandbox: how every render runs. bubblewrap with every namespace unshared (no
// network), a cleared environment, the system and the Python environment
// read-only, a size-capped tmpfs as /job and one writable output directory as
// /out; prlimit caps CPU time, address space, file size and open files, and a
// wall-clock timeout kills the whole process group. Nothing of the spool, the
// state or the daemon's environment is visible inside.
import MathreelCore
import MathreelDaemon
import MathreelSpool
#if canImport(Glibc)
import Glibc
#endif

public struct SandboxLimits: Sendable {
    public var wallSeconds: Double = 300
    public var cpuSeconds = 600
    public var addressSpace: Int64 = 6 << 30
    public var fileSize: Int64 = 128 << 20
    public var openFiles = 512
    public var workBytes: Int64 = 1 << 30
    /// How much of the runner's output is kept (its tail).
    public var outputCap = 1 << 20
    public init() {}
}

public struct SandboxResult: Sendable {
    public let termination: Termination
    public let timedOut: Bool
    /// The runner's verdict, when it got to say one.
    public let report: JSONObject?
    /// The tail of what the render printed (stdout then stderr), at most `outputCap` bytes.
    public let log: String
}

public struct Sandbox: Sendable {
    /// The Manim environment's Python, as an absolute path.
    public let python: String
    public var limits = SandboxLimits()

    public init(python: String) {
        self.python = python.hasPrefix("/") ? python : Sandbox.absolute(python)
    }

    static func absolute(_ path: String) -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return path }
        let cwd = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return cwd + "/" + path
    }

    /// Directories the Python environment needs, read-only: the venv and, when it was
    /// made from a Python outside /usr, that Python's prefix (pyvenv.cfg's `home`).
    func pythonBinds() -> [String] {
        let venv = String(python.split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/"))
        var dirs: [String] = []
        if !venv.isEmpty, !venv.hasPrefix("/usr/") { dirs.append(venv) }
        if let cfg = try? String(contentsOfFile: venv + "/pyvenv.cfg", encoding: .utf8) {
            for line in cfg.split(separator: "\n") where line.hasPrefix("home") {
                let home = String(line.split(separator: "=", maxSplits: 1).last ?? "").trimmed()
                let prefix = String(home.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/"))
                if !prefix.isEmpty, !prefix.hasPrefix("/usr") { dirs.append(prefix) }
            }
        }
        return dirs
    }

    /// The whole command line: prlimit, then bwrap, then `program` (default: the runner).
    public func command(outDir: String, program: [String]? = nil) -> [String] {
        var bw = ["/usr/bin/bwrap",
                  "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--disable-userns",
                  "--die-with-parent", "--new-session", "--clearenv",
                  "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/job", "--setenv", "LANG", "C.UTF-8",
                  "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "TEXMFVAR", "/job/texmf-var",
                  "--ro-bind", "/usr", "/usr",
                  "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                  "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin"]
        // Fonts and TeX read their configuration from /etc and their formats from /var/lib.
        for dir in ["/etc/fonts", "/etc/texmf", "/var/lib/texmf", "/etc/ld.so.cache", "/etc/alternatives"]
        where access(dir, F_OK) == 0 {
            bw += ["--ro-bind", dir, dir]
        }
        for dir in pythonBinds() { bw += ["--ro-bind", dir, dir] }
        bw += ["--proc", "/proc", "--dev", "/dev",
               "--size", String(limits.workBytes), "--tmpfs", "/job",
               "--bind", outDir, "/out", "--chdir", "/job"]
        bw += program ?? [python, "-I", "-c", RunnerSource.python]
        let prlimit = ["/usr/bin/prlimit", "--cpu=\(limits.cpuSeconds)", "--as=\(limits.addressSpace)",
                       "--fsize=\(limits.fileSize)", "--nofile=\(limits.openFiles)", "--core=0", "--"]
        return prlimit + bw
    }

    /// Renders one job cold: `request` is the runner's job (code, scene, quality, format).
    /// The video lands in `outDir` (which must exist and be empty).
    public func run(_ request: JSONObject, outDir: String) async throws -> SandboxResult {
        let worker = try start(outDir: outDir)
        return try await worker.render(request)
    }

    /// Starts the runner ahead of its job: it imports Manim, then waits on stdin.
    public func start(outDir: String) throws -> SandboxWorker {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw ChildError(description: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(fds[0]) }
        let output = try ScratchFile()
        let cmd = command(outDir: outDir)
        do {
            let child = try ChildProcess(path: cmd[0], arguments: Array(cmd.dropFirst()), environment: [:],
                                         stdin: fds[0], stdout: output.fd, stderr: output.fd, newSession: true)
            return SandboxWorker(child: child, jobInput: fds[1], output: output, outDir: outDir, limits: limits)
        } catch {
            close(fds[1])
            throw error
        }
    }

    /// Runs `program` in the sandbox with `input` on stdin; returns how it ended, whether
    /// the wall clock ran out, and the tail of its output.
    public func execute(_ program: [String], input: [UInt8] = [], outDir: String, wallSeconds: Double) async throws -> (Termination, Bool, String) {
        let stdin = try ScratchFile(contents: input)
        let output = try ScratchFile()
        let cmd = command(outDir: outDir, program: program)
        let child = try ChildProcess(path: cmd[0], arguments: Array(cmd.dropFirst()), environment: [:],
                                     stdin: stdin.fd, stdout: output.fd, stderr: output.fd, newSession: true)
        let (end, timedOut) = await child.wait(orKillAfter: wallSeconds)
        return (end, timedOut, String(decoding: output.tail(limit: limits.outputCap), as: UTF8.self))
    }
}

/// One started runner: used for exactly one job, then it exits.
public final class SandboxWorker: @unchecked Sendable {
    let child: ChildProcess
    private var jobInput: Int32
    let output: ScratchFile
    public let outDir: String
    let limits: SandboxLimits

    init(child: ChildProcess, jobInput: Int32, output: ScratchFile, outDir: String, limits: SandboxLimits) {
        self.child = child; self.jobInput = jobInput; self.output = output; self.outDir = outDir; self.limits = limits
    }

    deinit {
        if jobInput >= 0 { close(jobInput) }
        if child.termination == nil { child.signalGroup(SIGKILL) }
    }

    public var pid: Int32 { child.pid }

    /// Whether the runner is still alive and waiting (a warm worker can die while it waits).
    public var isAlive: Bool { child.termination == nil }

    /// Sends the job and waits for the render, at most the wall-clock limit.
    public func render(_ request: JSONObject) async throws -> SandboxResult {
        let line = JSONValue.object(request).serialized(pretty: false)
        let fd = jobInput
        jobInput = -1
        // The pipe holds 64 KB; a larger job waits for the runner to read, so write off the async pool.
        try await BlockingIO.run {
            defer { close(fd) }
            var off = 0
            while off < line.count {
                let n = line.withUnsafeBytes { write(fd, $0.baseAddress! + off, line.count - off) }
                if n <= 0 { if errno == EINTR { continue }; return }
                off += n
            }
        }
        let (end, timedOut) = await child.wait(orKillAfter: limits.wallSeconds)
        let tail = String(decoding: output.tail(limit: limits.outputCap), as: UTF8.self)
        var report: JSONObject?
        for text in tail.split(separator: "\n").reversed() where text.hasPrefix("{") {
            if case .object(let o)? = try? JSONValue.parse(Array(text.utf8)), o["ok"] != nil { report = o; break }
        }
        return SandboxResult(termination: end, timedOut: timedOut, report: report, log: tail)
    }

    /// Ends a worker that will not be used.
    public func stop() { child.signalGroup(SIGKILL) }
}
