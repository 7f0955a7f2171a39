// Threads for blocking work, kept off Swift's cooperative pool (two threads on a
// two-core machine: one fsync there stalls half of every daemon). OSThread runs
// a loop of its own; BlockingIO runs short blocking calls on a small pool. No
// thread to be had (a task limit) is an error for the caller, never an abort.
import CMathreel
import MathreelCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public enum OSThread {
    /// Starts a detached thread running `body`; `name` is what ps shows for it. Throws when
    /// the system gives no thread (EAGAIN at a task limit: a sandbox's processes count toward
    /// the daemon's unit); the caller fails its one piece of work, never the daemon.
    public static func start(name: String? = nil, _ body: @escaping @Sendable () -> Void) throws(ThreadError) {
        final class Box: @unchecked Sendable { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
        var named = body
        if let name { named = { _ = mr_set_thread_name(name); body() } }
        let box = Unmanaged.passRetained(Box(named)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let box = Unmanaged<AnyObject>.fromOpaque(arg!).takeRetainedValue() as! Box
            box.body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<AnyObject>.fromOpaque(box).release()
            throw ThreadError(code: rc)
        }
        pthread_detach(tid)
    }
}

/// A thread that could not be started.
public struct ThreadError: Error, CustomStringConvertible {
    public let code: Int32
    public var description: String { "cannot start a thread: \(String(cString: strerror(code)))" }
}

/// A mutex with a condition variable, for the few places that must wait on a thread.
final class Condition: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    init() { pthread_mutex_init(&mutex, nil); pthread_cond_init(&cond, nil) }
    deinit { pthread_cond_destroy(&cond); pthread_mutex_destroy(&mutex) }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
    func wait() { pthread_cond_wait(&cond, &mutex) }
    func signal() { pthread_cond_signal(&cond) }
    func broadcast() { pthread_cond_broadcast(&cond) }
}

/// Group commit for one directory: a caller needs an fsync that began after its
/// rename; callers that arrive while one is running share the next one. Under
/// concurrency this turns many directory fsyncs into a few.
package final class DirectorySync: @unchecked Sendable {
    private let fd: Int32
    private let what: String
    private let condition = Condition()
    private var started = 0
    private var completed = 0
    private var running = false
    private var failures: [Int: Int32] = [:]

    package init(fd: Int32, what: String) { self.fd = fd; self.what = what }

    package func sync() throws {
        condition.lock()
        defer { condition.unlock() }
        let target = started + 1
        while completed < target {
            if running {
                condition.wait()
                continue
            }
            running = true
            started += 1
            let generation = started
            condition.unlock()
            let rc = fsync(fd)
            let err = errno
            condition.lock()
            running = false
            completed = generation
            if rc != 0 { failures[generation] = err }
            condition.broadcast()
        }
        // A failed fsync fails every caller it was meant to cover (never retried).
        if let err = failures[target] { throw FileError("fsync \(what)", errno: err) }
        if failures.count > 64 { failures = failures.filter { $0.key >= completed - 8 } }
    }
}

public enum BlockingIO {
    /// Enough threads that fsyncs of different workers overlap (the filesystem
    /// batches them into shared journal commits).
    static let pool = ThreadPool(size: 64)

    /// Runs `body` on a pool thread and resumes with its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            pool.submit { c.resume(with: Result { try body() }) }
        }
    }
}

final class ThreadPool: @unchecked Sendable {
    private let condition = Condition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var idle = 0
    private var threads = 0
    private let size: Int

    init(size: Int) { self.size = size }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        let spawn = idle == 0 && threads < size
        if spawn { threads += 1 }
        condition.signal()
        condition.unlock()
        guard spawn else { return }
        do {
            try OSThread.start { self.work() }
        } catch {
            // No thread to be had (a task limit): the threads that run take the job; with
            // none at all, the caller runs what waits itself rather than leave it forever.
            condition.lock()
            threads -= 1
            var orphaned: [@Sendable () -> Void] = []
            if threads == 0 {
                orphaned = Array(jobs[head...])
                jobs.removeAll(keepingCapacity: true); head = 0
            }
            condition.unlock()
            for job in orphaned { job() }
        }
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count { jobs.removeAll(keepingCapacity: true); head = 0 }
            condition.unlock()
            job()
        }
    }
}
