// Sandbox: how every render runs. bubblewrap with every namespace unshared (no
// network), a cleared environment, the system and the Python environment
// read-only, and one writable place: a size-capped tmpfs as /job, where /tmp and
// /dev/shm lead too (bwrap's own root, with /dev built in it, is remounted
// read-only), so the cap holds every byte a scene can write. A seccomp filter
// (CMathreel) refuses the kernel interfaces a scene never needs, so a render run
// outside systemd is filtered too. What comes out comes through descriptors the
// daemon opened (unlinked files as 3, 4, ...), so there is no path to swap for a
// link. prlimit caps CPU time, address space, file size, open files and
// processes (the process cap fitted to the daemon's own task limit); each
// sandbox is pinned to its share of the CPUs and niced below the daemons; a
// wall-clock timeout kills the whole process group. A root daemon's sandboxes
// always run as nobody: a Python environment under a directory nobody may
// enter is mounted where nobody can reach it, in a private mount namespace of
// that sandbox alone. Nothing of the spool, the state or the daemon's
// environment is visible inside.
import CMathreel
import MathreelCore
import MathreelDaemon
import MathreelSystem
import Synchronization
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
    /// Every byte a sandbox may write: /job is its only writable mount.
    public var workBytes: Int64 = 1 << 30
    /// How much of the runner's output is kept (its tail).
    public var outputCap = 1 << 20
    /// How many sandboxes run at once: each is pinned to its share of the CPUs (at least one).
    public var renders = CPUShares.shared.cpus.count
    /// The sandboxes' CPU priority (MATHREEL_RENDER_NICE for the daemon; the unit sets 10, below
    /// the daemons). 0 by default: at 10 a render gets a tenth of a core that anything else wants.
    public var nice = 0
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
    /// Why this sandbox must not run untrusted code, and how to fix it; the daemon refuses to start.
    public let refusal: String?
    /// The Python environment's directories, read-only inside at their own paths.
    let binds: [String]
    /// Those of `binds` nobody cannot reach, and the directory a private mount namespace
    /// mounts them under for bwrap (which resolves every source as the user it runs as).
    let hidden: [String]
    let stage: String?

    /// The uid a root daemon's sandboxes run as. Root is exempt from the process limit
    /// and must never be what untrusted code maps back to.
    public static let nobody: uid_t = 65534

    /// A sandbox for `python`'s environment. `renders`, when given (the daemon), is how many
    /// run at once: their CPU share, and a process cap that fits the daemon's task limit.
    public init(python: String, renders: Int? = nil) {
        let python = PlainFile.absolute(python)
        self.python = python
        binds = Sandbox.pythonBinds(python)
        var problems: [String] = []
        if let renders {
            limits.renders = min(max(1, renders), 4096)
            let limit = Sandbox.taskLimit()
            limits.processes = Sandbox.processCap(wanted: limits.processes, renders: limits.renders, taskLimit: limit)
            if limits.processes < Sandbox.minimumProcesses, let limit {
                problems.append("The render daemon may start \(limit) tasks (TasksMax= of mathreel-render.service, or its cgroup's pids.max), which leaves each of \(limits.renders) renders at once fewer than \(Sandbox.minimumProcesses) processes. Raise TasksMax= or lower MATHREEL_MAX_CONCURRENT_RENDERS.")
            }
        }
        guard geteuid() == 0 else {
            stepDownTo = nil; hidden = []; stage = nil
            refusal = problems.first
            return
        }
        stepDownTo = Sandbox.nobody
        let hidden = binds.filter { Sandbox.closedToOthers($0 + "/") != nil }
        self.hidden = hidden
        stage = hidden.isEmpty ? nil : Sandbox.stageCandidates.first { dir in
            Sandbox.isDirectory(dir) && !hidden.contains { $0 == dir || $0.hasPrefix(dir + "/") }
        }
        if !hidden.isEmpty {
            if stage == nil {
                problems.append("\(hidden[0]) is under a directory other users may not enter (\(Sandbox.closedToOthers(hidden[0] + "/") ?? hidden[0])), and none of \(Sandbox.stageCandidates.joined(separator: ", ")) is free to mount it on for the sandbox, which runs as nobody. Keep the Python environment where others may read it (MATHREEL_PYTHON), or run mathreel as its own user (the systemd units do).")
            } else if let missing = Sandbox.stageTools.first(where: { access($0, X_OK) != 0 }) {
                problems.append("\(hidden[0]) is under a directory other users may not enter, and \(missing) is missing to mount it for the sandbox, which runs as nobody. Install util-linux and mount (`make setup`), or keep the Python environment where others may read it.")
            } else if let stage, let failed = Sandbox.stageFails(stage, hidden) {
                problems.append("\(hidden[0]) is under a directory other users may not enter, and mounting it for the sandbox (which runs as nobody) in a private mount namespace failed: \(failed). Keep the Python environment where others may read it (MATHREEL_PYTHON), or run mathreel as its own user (the systemd units do).")
            }
        }
        if let unreadable = binds.filter({ access($0, F_OK) == 0 }).lazy.compactMap(Sandbox.unreadable).first {
            problems.append("\(unreadable) is not readable by other users, and a root daemon's sandboxes run as nobody. Fix it with `chmod -R o+rX \(binds.first { unreadable.hasPrefix($0) } ?? unreadable)` (or make the environment again under umask 022: `make setup-python`), or run mathreel as its own user (the systemd units do).")
        }
        refusal = problems.first
    }

    /// Where a root daemon mounts a hidden environment (a small tmpfs of the sandbox's own
    /// mount namespace over it, so the host sees nothing).
    static let stageCandidates = ["/mnt", "/media", "/srv"]
    static let stageTools: [String] = ["/usr/bin/unshare", "/bin/sh", "/usr/bin/mount", "/usr/bin/mkdir"]

    /// Whether the stage can be built here (a container may forbid mounts even to root): nil
    /// if it can, else what went wrong. Tried once per stage and directories, in this process.
    static func stageFails(_ stage: String, _ hidden: [String]) -> String? {
        let key = ([stage] + hidden).joined(separator: "\0")
        if let known = stageTried.withLock({ $0[key] }) { return known }
        var why: String?
        do {
            let output = try ScratchFile()
            let child = try ChildProcess(path: "/usr/bin/unshare", arguments: ["--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                                         stageScript, "mathreel-stage", stage] + hidden + ["--", "/bin/true"],
                                         environment: [:], stdout: output.fd, stderr: output.fd, newSession: true)
            for _ in 0..<500 where child.termination == nil { usleep(10_000) }
            if child.termination == nil { child.signalGroup(SIGKILL) }
            if child.termination != .exited(0) {
                let text = String(decoding: output.read(limit: 2000), as: UTF8.self).split(separator: "\n").first.map(String.init)
                why = text ?? child.termination.map { "\($0)" } ?? "it did not finish within 5 s"
            }
        } catch {
            why = "\(error)"
        }
        stageTried.withLock { $0[key] = .some(why) }
        return why
    }
    private static let stageTried = Mutex<[String: String?]>([:])

    /// Fewer processes than this and Manim cannot render (its ffmpeg, LaTeX and their threads).
    public static let minimumProcesses = 32
    /// Tasks a daemon keeps for itself: its blocking-I/O threads (64), Swift's, one waiter per child.
    public static let daemonTasks = 128
    /// Tasks of a sandbox outside its own cap (bwrap's two, the chain before it); each render
    /// has its runner and the one waiting to replace it.
    public static let sandboxOverhead = 8

    /// The largest process cap per sandbox (at most `wanted`) with which `renders` sandboxes
    /// forking at once still leave the daemon its own tasks under `taskLimit`.
    public static func processCap(wanted: Int, renders: Int, taskLimit: Int?) -> Int {
        guard let taskLimit else { return wanted }
        let renders = min(max(1, renders), 1 << 20)
        let free = taskLimit - daemonTasks - renders * 2 * sandboxOverhead
        return max(0, min(wanted, free / renders))
    }

    /// How many tasks this process's cgroup (and those above it) may hold, or nil when unbounded:
    /// a systemd unit's TasksMax=, or pids.max of a cgroup set by hand.
    static func taskLimit() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
        var best: Int?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let base: String
            if parts[1] == "" && parts[0] == "0" { base = "/sys/fs/cgroup" }
            else if parts[1].split(separator: ",").contains("pids") { base = "/sys/fs/cgroup/pids" }
            else { continue }
            var path = String(parts[2])
            while true {
                let file = base + (path == "/" ? "" : path) + "/pids.max"
                if let raw = try? String(contentsOfFile: file, encoding: .utf8), let n = Int(raw.trimmed()) { best = min(best ?? n, n) }
                guard path != "/", let slash = path.lastIndex(of: "/") else { break }
                path = slash == path.startIndex ? "/" : String(path[..<slash])
            }
        }
        return best
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

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    /// The first entry under `dir` (itself included) that other users cannot read (files) or
    /// list and enter (directories), if any. Checked once per directory and process.
    static func unreadable(_ dir: String) -> String? {
        if let known = unreadableSeen.withLock({ $0[dir] }) { return known }
        let found = walk(dir)
        unreadableSeen.withLock { $0[dir] = .some(found) }
        return found
    }
    private static let unreadableSeen = Mutex<[String: String?]>([:])

    private static func walk(_ path: String) -> String? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return path }
        switch st.st_mode & S_IFMT {
        case S_IFLNK: return nil
        case S_IFDIR:
            guard st.st_mode & 0o005 == 0o005 else { return path }
            guard let d = opendir(path) else { return path }
            defer { closedir(d) }
            while let entry = readdir(d) {
                let name = withUnsafePointer(to: entry.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
                if name == "." || name == ".." { continue }
                if let bad = walk(path + "/" + name) { return bad }
            }
            return nil
        default:
            return st.st_mode & 0o004 == 0 ? path : nil
        }
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

    /// The runner every sandbox starts (runner.py, embedded at build time).
    static let runner = String(decoding: PackageResources.runner_py, as: UTF8.self)

    /// Run as root by `sh` in the sandbox's own private mount namespace (unshare --mount): a
    /// tmpfs on the stage, each hidden directory bound read-only on it as 0, 1, ...; then the rest.
    static let stageScript = """
        set -e
        stage=$1; shift
        /usr/bin/mount -t tmpfs -o mode=0755,size=64k,nosuid,nodev mathreel-stage "$stage"
        i=0
        while [ "$1" != -- ]; do
            /usr/bin/mkdir "$stage/$i"
            /usr/bin/mount --bind -o ro "$1" "$stage/$i"
            i=$((i + 1)); shift
        done
        shift
        exec "$@"
        """

    /// The seccomp program bwrap loads (--seccomp); empty if it could not be built, which
    /// bwrap refuses: the sandbox then fails closed.
    static let seccompProgram: [UInt8] = {
        var buf = [UInt8](repeating: 0, count: 8192)
        let n = buf.withUnsafeMutableBufferPointer { mr_sandbox_seccomp($0.baseAddress!, Int32($0.count)) }
        return Array(buf.prefix(max(0, Int(n))))
    }()

    /// How many CPUs each sandbox gets: the daemon's CPUs shared among the renders at once.
    var cpuShare: Int { max(1, CPUShares.shared.cpus.count / max(1, limits.renders)) }

    /// The whole command line: prlimit, nice, taskset, (root: a private mount namespace for a
    /// hidden environment, setpriv to nobody), bwrap, then inside the sandbox prlimit's process
    /// cap and `program` (default: the runner). `files` descriptors are passed as 3, 4, ...;
    /// the seccomp program comes right after them.
    public func command(_ program: [String]? = nil, files: Int = 0, cpus: [Int]? = nil) -> [String] {
        var cmd = ["/usr/bin/prlimit", "--cpu=\(limits.cpuSeconds)", "--as=\(limits.addressSpace)",
                   "--fsize=\(limits.fileSize)", "--nofile=\(limits.openFiles)", "--core=0", "--",
                   "/usr/bin/nice", "-n", String(min(max(0, limits.nice), 19))]
        if let cpus, !cpus.isEmpty {
            cmd += ["/usr/bin/taskset", "--cpu-list", cpus.map(String.init).joined(separator: ",")]
        }
        if let stage, !hidden.isEmpty {
            cmd += ["/usr/bin/unshare", "--mount", "--propagation", "private", "--",
                    "/bin/sh", "-c", Sandbox.stageScript, "mathreel-stage", stage] + hidden + ["--"]
        }
        if let uid = stepDownTo {
            cmd += ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--"]
        }
        cmd += ["/usr/bin/bwrap",
                "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--disable-userns",
                "--die-with-parent", "--new-session", "--clearenv",
                "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/job", "--setenv", "LANG", "C.UTF-8",
                "--setenv", "TEXMFVAR", "/job/texmf-var", "--setenv", "TMPDIR", "/job/tmp",
                // one render is one core's work: no pool of BLAS threads in every process
                "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "OPENBLAS_NUM_THREADS", "1",
                "--ro-bind", "/usr", "/usr",
                "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin"]
        // Fonts and TeX read their configuration from /etc, their formats and caches from /var.
        for dir in ["/etc/fonts", "/etc/texmf", "/var/lib/texmf", "/var/cache/fontconfig", "/etc/ld.so.cache", "/etc/alternatives"]
        where access(dir, F_OK) == 0 {
            cmd += ["--ro-bind", dir, dir]
        }
        for dir in binds {
            let source = stage.flatMap { stage in hidden.firstIndex(of: dir).map { "\(stage)/\($0)" } } ?? dir
            cmd += ["--ro-bind", source, dir]
        }
        cmd += ["--proc", "/proc"]
        // /dev made by hand inside bwrap's root (bwrap's --dev is a tmpfs of its own, without a size).
        cmd += ["--dir", "/dev"]
        for node in ["null", "zero", "full", "random", "urandom"] { cmd += ["--dev-bind", "/dev/" + node, "/dev/" + node] }
        cmd += ["--symlink", "/proc/self/fd", "/dev/fd", "--symlink", "/proc/self/fd/0", "/dev/stdin",
                "--symlink", "/proc/self/fd/1", "/dev/stdout", "--symlink", "/proc/self/fd/2", "/dev/stderr"]
        // The one writable place; /tmp and /dev/shm lead into it, and the root turns read-only.
        // (An environment under /tmp, a `mktemp -d` checkout, makes /tmp a read-only directory
        // instead; TMPDIR still leads into /job.)
        cmd += ["--size", String(limits.workBytes), "--tmpfs", "/job", "--dir", "/job/tmp", "--dir", "/job/shm",
                "--symlink", "/job/shm", "/dev/shm"]
        if !binds.contains(where: { $0.hasPrefix("/tmp/") }) { cmd += ["--symlink", "/job/tmp", "/tmp"] }
        cmd += ["--remount-ro", "/", "--seccomp", String(3 + files), "--chdir", "/job"]
        // Set inside the sandbox's own user namespace, the process cap counts only this
        // sandbox's processes, not every process of the daemon's user.
        cmd += ["/usr/bin/prlimit", "--nproc=\(limits.processes)", "--"]
        return cmd + (program ?? [python, "-I", "-B", "-c", Sandbox.runner])
    }

    /// An unlinked file the sandbox may write (and reopen as /proc/self/fd/N).
    public func outputFile() throws -> ScratchFile {
        let file = try ScratchFile()
        // Unlinked, so nothing can name it; a sandbox stepped down to nobody must still open it.
        if stepDownTo != nil { fchmod(file.fd, 0o666) }
        return file
    }

    /// A copy of the regular file at `path` (never through a link) that the sandbox may read
    /// as /proc/self/fd/N, whoever owns the original.
    public func inputFile(copying path: String) throws -> ScratchFile {
        let file = try outputFile()
        let src = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard src >= 0 else { throw ChildError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(src) }
        var st = stat()
        guard fstat(src, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { throw ChildError(description: "\(path) is not a regular file") }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(src, $0.baseAddress!, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw ChildError(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            var off = 0
            while off < n {
                let w = buffer.withUnsafeBytes { write(file.fd, $0.baseAddress! + off, n - off) }
                if w < 0, errno == EINTR { continue }
                guard w > 0 else { throw ChildError(description: "cannot copy \(path): \(String(cString: strerror(errno)))") }
                off += w
            }
        }
        lseek(file.fd, 0, SEEK_SET)
        return file
    }

    func spawn(_ program: [String]?, stdin: Int32, output: Int32, files: [ScratchFile]) throws -> ChildProcess {
        // A fresh copy each time: bwrap reads the program from the descriptor's offset.
        let filter = try ScratchFile(contents: Sandbox.seccompProgram)
        return try CPUShares.shared.pin(cpuShare) { cpus in
            let cmd = command(program, files: files.count, cpus: cpus)
            return try ChildProcess(path: cmd[0], arguments: Array(cmd.dropFirst()), environment: [:], stdin: stdin,
                                    stdout: output, stderr: output, passing: files.map(\.fd) + [filter.fd], newSession: true)
        }
    }

    /// Starts the runner ahead of its job: it imports Manim, then waits on stdin.
    public func start() throws -> SandboxWorker {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw ChildError(description: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(fds[0]) }
        do {
            let output = try ScratchFile()
            let video = try outputFile()
            let child = try spawn(nil, stdin: fds[0], output: output.fd, files: [video])
            return SandboxWorker(child: child, jobInput: fds[1], output: output, video: video, limits: limits)
        } catch {
            close(fds[1])
            throw error
        }
    }

    /// The verdict a sandboxed script printed last: its last JSON line with an `ok` field.
    public static func report(in output: String) -> JSONObject? {
        for text in output.split(separator: "\n").reversed() where text.hasPrefix("{") {
            if case .object(let o)? = try? JSONValue.parse(Array(text.utf8)), o["ok"] != nil { return o }
        }
        return nil
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

/// The CPUs this process may use, and which of them its live sandboxes were pinned to: each
/// new sandbox goes to the least busy ones, so renders at once land on different cores.
public final class CPUShares: Sendable {
    public static let shared = CPUShares()
    /// The CPUs this process may run on (its affinity at start), ascending.
    public let cpus: [Int]
    private let live = Mutex<[(cpus: [Int], child: ChildProcess)]>([])

    init() {
        var out = [Int32](repeating: 0, count: 4096)
        let n = out.withUnsafeMutableBufferPointer { mr_allowed_cpus($0.baseAddress!, Int32($0.count)) }
        cpus = n > 0 ? out.prefix(Int(n)).map(Int.init) : Array(0..<max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
        rank = Dictionary(uniqueKeysWithValues: cpus.shuffled().enumerated().map { ($1, $0) })
    }
    /// A random order of the CPUs, for ties.
    private let rank: [Int: Int]

    /// Starts a child on the `count` least busy CPUs (`start` gets them) and counts it there until it ends.
    func pin(_ count: Int, _ start: ([Int]) throws -> ChildProcess) throws -> ChildProcess {
        try live.withLock { live in
            live.removeAll { $0.child.termination != nil }
            var load = [Int: Int]()
            for entry in live { for cpu in entry.cpus { load[cpu, default: 0] += 1 } }
            // Ties go in an order of this process's own: processes that each start their first
            // sandbox (tests, doctor, a second daemon) must not all land on CPU 0.
            let chosen = Array(cpus.sorted { (load[$0] ?? 0, rank[$0] ?? 0) < (load[$1] ?? 0, rank[$1] ?? 0) }.prefix(max(1, count))).sorted()
            let child = try start(chosen)
            live.append((chosen, child))
            return child
        }
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
        let report = Sandbox.report(in: tail)
        // Ended before its first line (the import, before it reads the job): the sandbox or
        // Python never came up (a task limit, a broken environment). Not the scene's doing,
        // so no verdict on it: the job is tried again.
        if report == nil, !timedOut, !String(decoding: output.read(limit: 64 << 10), as: UTF8.self).contains(#"{"ready": true"#) {
            let why = tail.split(separator: "\n").first.map { String($0.prefix(300)) } ?? "\(end)"
            throw ChildError(description: "the render sandbox did not start: \(why)")
        }
        return SandboxResult(termination: end, timedOut: timedOut, report: report, log: tail)
    }

    /// Ends a worker that will not be used.
    public func stop() { child.signalGroup(SIGKILL) }
}
