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
    let size: Int
    private var idle: [SandboxWorker] = []
    private var stopped = false

    public init(sandbox: Sandbox, size: Int) {
        self.sandbox = sandbox; self.size = max(0, size)
    }

    /// Starts runners until `size` are waiting.
    public func fill() {
        idle.removeAll { !$0.isAlive }
        while !stopped, idle.count < size, let w = try? sandbox.start() { idle.append(w) }
    }

    /// A runner for one job: a warm one when there is one, else a fresh start.
    public func take() throws -> SandboxWorker {
        idle.removeAll { !$0.isAlive }
        let worker = idle.isEmpty ? try sandbox.start() : idle.removeFirst()
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
}
