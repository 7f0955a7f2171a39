// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET per state change
// (READY=1, STOPPING=1, STATUS=..., WATCHDOG=1). Silent when systemd is absent.
import CMathreel
import MathreelCore
#if canImport(Glibc)
import Glibc
#endif

public struct Notifier: Sendable {
    public let socketPath: String?
    /// Half the watchdog interval systemd asked for, if it asked.
    public let watchdogInterval: Double?

    public init(environment env: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = env["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        if let usec = env["WATCHDOG_USEC"].flatMap(Double.init), usec > 0 {
            // WATCHDOG_PID, when set, names the process the watchdog is meant for.
            if let pid = env["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() {
                watchdogInterval = nil
            } else {
                watchdogInterval = usec / 1e6 / 2
            }
        } else {
            watchdogInterval = nil
        }
    }

    @discardableResult
    public func send(_ state: String) -> Bool {
        guard let socketPath else { return false }
        return mr_notify(socketPath, state) == 0
    }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func stopping() { send("STOPPING=1") }
    public func watchdog() { send("WATCHDOG=1") }
}
