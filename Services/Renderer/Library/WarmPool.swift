// WarmPool: sandboxed runners started ahead of need, each already past its
// Manim import (about a second) when a job arrives. A runner renders exactly one
// job and exits, so every job still gets a fresh process in a fresh sandbox; the
// pool starts a replacement the moment one is taken.
import MathreelCore
import MathreelSpool
#if canImport(Glibc)
import Glibc
#endif

public actor WarmPool {
    let sandbox: Sandbox
    /// Each runner's own output directory lives here (never in the spool).
    let root: String
    let size: Int
    private var idle: [SandboxWorker] = []
    private var stopped = false

    public init(sandbox: Sandbox, root: String, size: Int) {
        self.sandbox = sandbox; self.root = root; self.size = max(0, size)
        // Leftovers of an earlier run belong to runners that are gone.
        if let dir = PlainDirectory(path: root) { for name in dir.list() { dir.remove(name) } }
        _ = Spool.makeDirectoriesIfMissing(root)
    }

    /// Starts runners until `size` are waiting.
    public func fill() {
        idle.removeAll { !$0.isAlive }
        while !stopped, idle.count < size, let w = try? startOne() { idle.append(w) }
    }

    /// A runner for one job: a warm one when there is one, else a fresh start.
    public func take() throws -> SandboxWorker {
        idle.removeAll { !$0.isAlive }
        let worker = idle.isEmpty ? try startOne() : idle.removeFirst()
        fill()
        return worker
    }

    public var waiting: Int { idle.count }

    /// Stops every waiting runner (daemon shutdown).
    public func shutdown() {
        stopped = true
        for w in idle { w.stop() }
        idle = []
    }

    private func startOne() throws -> SandboxWorker {
        let out = root + "/" + JobID.make()
        guard mkdir(out, 0o770) == 0 else { throw SpoolError("create \(out)") }
        return try sandbox.start(outDir: out)
    }
}
