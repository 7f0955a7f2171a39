// WarmPool: sandboxed runners started ahead of need, each already past its
// Manim import (about a second) when a job arrives. A runner renders exactly one
// job and exits, so every job still gets a fresh process in a fresh sandbox. A
// replacement starts when one is taken if a core is spare, else as soon as a
// render ends: an import must never take a core from a render under way. A
// runner that cannot start (a task limit) throws from `take`, so that one job is
// tried again later; filling just stops until the next render ends.
import MathreelCore
import MathreelSandbox
import MathreelSpool
#if canImport(Glibc)
import Glibc
#endif

public actor WarmPool {
    let sandbox: Sandbox
    let size: Int
    let cores: Int
    private var idle: [SandboxWorker] = []
    /// Runners taken whose render has not ended.
    private var busy = 0
    private var stopped = false

    public init(sandbox: Sandbox, size: Int, cores: Int = CPUShares.shared.cpus.count) {
        self.sandbox = sandbox; self.size = max(0, size); self.cores = max(1, cores)
    }

    /// Starts runners until `size` are waiting, while renders leave a core spare (one
    /// more is kept for the daemon's own work; on one or two cores: only when none runs).
    public func fill() {
        idle.removeAll { !$0.isAlive }
        while !stopped, idle.count < size, busy < max(1, cores - 1), let w = try? sandbox.start() { idle.append(w) }
    }

    /// A runner for one job: a warm one when there is one, else a fresh start.
    /// Every taken runner is given back with `finished()` once its render ends.
    public func take() throws -> SandboxWorker {
        idle.removeAll { !$0.isAlive }
        let worker = idle.isEmpty ? try sandbox.start() : idle.removeFirst()
        busy += 1
        fill()
        return worker
    }

    /// A taken runner's render ended: its core is free for a replacement's import.
    public func finished() {
        busy = max(0, busy - 1)
        fill()
    }

    public var waiting: Int { idle.count }

    /// Stops every waiting runner (daemon shutdown).
    public func shutdown() {
        stopped = true
        for w in idle { w.stop() }
        idle = []
    }
}
