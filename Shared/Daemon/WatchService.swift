// WatchService: a daemon's reaction to every file arriving in one directory (the
// janitor's done/, delivery's failed/), as a service with graceful shutdown. The
// watcher's first scan hands over what is already there, then says so once.
import MathreelCore
import MathreelSpool
import MathreelSystem
import ServiceLifecycle

public struct WatchService: Service {
    let path: String
    let onFirstScan: @Sendable () -> Void
    let onBatch: @Sendable ([FileName]) -> Void

    public init(path: String, onFirstScan: @escaping @Sendable () -> Void = {}, onBatch: @escaping @Sendable ([FileName]) -> Void) {
        self.path = path; self.onFirstScan = onFirstScan; self.onBatch = onBatch
    }

    public func run() async throws {
        var first = true
        for try await batch in DirectoryWatcher(path: path).cancelOnGracefulShutdown() {
            onBatch(batch)
            if first { first = false; onFirstScan() }
        }
    }
}
