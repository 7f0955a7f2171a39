// Sandbox: how every render runs. bubblewrap with every namespace unshared (no
// network), a cleared environment, the system and the Python environment
// read-only and a size-capped tmpfs as /job: no directory of the host is
// writable inside. What comes out comes through descriptors the daemon opened
// (unlinked files as 3, 4, ...), so there is no path to swap for a link.
// prlimit caps CPU time, address space, file size, open files and processes,
// and a wall-clock timeout kills the whole process group. A root daemon's
// sandboxes run as nobody. Nothing of the spool, the state or the daemon's
// environment is visible inside.
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
    /// Processes and threads of one sandbox (a fork bomb stops here).
    public var processes = 256
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
    /// The uid the sandbox runs as outside when the daemon is root (nobody), or nil:
    /// a non-root daemon's sandbox maps back to the daemon's own unprivileged user.
    public let stepDownTo: uid_t?
    /// Why a root daemon's sandbox still runs as root, when it does.
    public let warning: String?

    /// The uid a root daemon's sandboxes run as. Root is exempt from the process limit
    /// and should never be what untrusted code maps back to.
    public static let nobody: uid_t = 65534

    public init(python: String) {
        let python = PlainFile.absolute(python)
        self.python = python
        if geteuid() != 0 {
            stepDownTo = nil; warning = nil
        } else if let blocked = ([python] + Sandbox.pythonBinds(python).map { $0 + "/" }).lazy.compactMap(Sandbox.closedToOthers).first {
            stepDownTo = nil
            warning = "Running as root, and \(blocked) is closed to other users, so renders run as root in their sandbox without a process limit. Run mathreel as its own user (the systemd units do), or keep the Python environment where others may read it."
        } else {
            stepDownTo = Sandbox.nobody; warning = nil
        }
    }

    /// The first directory on the way to `path` that others may not pass through, if any.
    static func closedToOthers(_ path: String) -> String? {
        var dir = ""
        for part in path.split(separator: "/").dropLast() {
            dir += "/" + part
            var st = stat()
            guard stat(dir, &st) == 0 else { return dir }
            if st.st_mode & 0o001 == 0 { return dir }
        }
        return nil
    }

    /// Directories the Python environment needs, read-only: the venv and, when it was
    /// made from a Python outside /usr, that Python's prefix (pyvenv.cfg's `home`).
    static func pythonBinds(_ python: String) -> [String] {
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

    /// The whole command line: prlimit, setpriv (root only), bwrap, then inside the
    /// sandbox prlimit's process cap and `program` (default: the runner).
    public func command(_ program: [String]? = nil) -> [String] {
        var cmd = ["/usr/bin/prlimit", "--cpu=\(limits.cpuSeconds)", "--as=\(limits.addressSpace)",
                   "--fsize=\(limits.fileSize)", "--nofile=\(limits.openFiles)", "--core=0", "--"]
        if let uid = stepDownTo {
            cmd += ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--"]
        }
        cmd += ["/usr/bin/bwrap",
                "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--disable-userns",
                "--die-with-parent", "--new-session", "--clearenv",
                "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/job", "--setenv", "LANG", "C.UTF-8",
                "--setenv", "TEXMFVAR", "/job/texmf-var",
                // one render is one core's work: no pool of BLAS threads in every process
                "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "OPENBLAS_NUM_THREADS", "1",
                "--ro-bind", "/usr", "/usr",
                "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin"]
        // Fonts and TeX read their configuration from /etc and their formats from /var/lib.
        for dir in ["/etc/fonts", "/etc/texmf", "/var/lib/texmf", "/etc/ld.so.cache", "/etc/alternatives"]
        where access(dir, F_OK) == 0 {
            cmd += ["--ro-bind", dir, dir]
        }
        for dir in Sandbox.pythonBinds(python) { cmd += ["--ro-bind", dir, dir] }
        cmd += ["--proc", "/proc", "--dev", "/dev", "--size", String(limits.workBytes), "--tmpfs", "/job", "--chdir", "/job"]
        // Set inside the sandbox's own user namespace, the process cap counts only this
        // sandbox's processes, not every process of the daemon's user.
        cmd += ["/usr/bin/prlimit", "--nproc=\(limits.processes)", "--"]
        return cmd + (program ?? [python, "-I", "-B", "-c", RunnerSource.python])
    }

    /// An unlinked file the sandbox may write (and reopen as /proc/self/fd/N).
    public func outputFile() throws -> ScratchFile {
        let file = try ScratchFile()
        // Unlinked, so nothing can name it; a sandbox stepped down to nobody must still open it.
        if stepDownTo != nil { fchmod(file.fd, 0o666) }
        return file
    }

    func spawn(_ program: [String]?, stdin: Int32, output: Int32, files: [ScratchFile]) throws -> ChildProcess {
        let cmd = command(program)
        return try ChildProcess(path: cmd[0], arguments: Array(cmd.dropFirst()), environment: [:],
                                stdin: stdin, stdout: output, stderr: output, passing: files.map(\.fd), newSession: true)
    }

    /// Starts the runner ahead of its job: it imports Manim, then waits on stdin.
    public func start() throws -> SandboxWorker {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw ChildError(description: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(fds[0]) }
        let output = try ScratchFile()
        let video = try outputFile()
        do {
            let child = try spawn(nil, stdin: fds[0], output: output.fd, files: [video])
            return SandboxWorker(child: child, jobInput: fds[1], output: output, video: video, limits: limits)
        } catch {
            close(fds[1])
            throw error
        }
    }

    /// Runs `program` in the sandbox with `files` as descriptors 3, 4, ... and `input` on
    /// stdin; returns how it ended, whether the wall clock ran out, and its output's tail.
    public func execute(_ program: [String], files: [ScratchFile] = [], input: [UInt8] = [], wallSeconds: Double) async throws -> (Termination, Bool, String) {
        let stdin = try ScratchFile(contents: input)
        let output = try ScratchFile()
        let child = try spawn(program, stdin: stdin.fd, output: output.fd, files: files)
        let (end, timedOut) = await child.wait(orKillAfter: wallSeconds)
        return (end, timedOut, String(decoding: output.tail(limit: limits.outputCap), as: UTF8.self))
    }
}

/// One started runner: used for exactly one job, then it exits.
public final class SandboxWorker: @unchecked Sendable {
    let child: ChildProcess
    private var jobInput: Int32
    let output: ScratchFile
    /// Descriptor 3 inside: the runner copies the finished video into it.
    public let video: ScratchFile
    let limits: SandboxLimits

    init(child: ChildProcess, jobInput: Int32, output: ScratchFile, video: ScratchFile, limits: SandboxLimits) {
        self.child = child; self.jobInput = jobInput; self.output = output; self.video = video; self.limits = limits
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
