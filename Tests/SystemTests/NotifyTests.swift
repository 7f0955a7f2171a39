// The daemons speak systemd's notify protocol: READY=1 once they serve,
// WATCHDOG=1 while their loops tick, STOPPING=1 on SIGTERM — checked by
// listening on a real unix datagram socket as systemd would.
import Foundation
import MathreelDaemon
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A bound AF_UNIX datagram socket collecting what a daemon sends.
final class NotifySocket: @unchecked Sendable {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 { throw ChildError(description: "bind \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd); unlink(path) }

    /// Every datagram received so far.
    func drain() -> [String] {
        var out: [String] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            out.append(String(decoding: buf[0..<n], as: UTF8.self))
        }
        return out
    }
}

@Suite struct NotifyTests {
    @Test(arguments: ["mathreel-ingest", "mathreel-janitor"])
    func daemonSaysReadyPingsTheWatchdogAndSaysStopping(_ daemon: String) async throws {
        let dir = TempDir()
        let socket = try NotifySocket(path: dir.path + "/notify.sock")
        // Its output goes to a file, never to the test runner's own pipe.
        // Its own port: the default one may be another test's (ingest would stop, unable to listen).
        let child = try StartedDaemon.start(daemon, dir, ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000", "MATHREEL_LOG_LEVEL": "error",
                                                          "MATHREEL_INGEST_ADDR": "127.0.0.1:\(freePort())"]).child
        var got: [String] = []
        let ready = await waitUntil(timeout: 20) {
            got += socket.drain()
            return got.contains { $0.contains("READY=1") } && got.filter { $0 == "WATCHDOG=1" }.count >= 3
        }
        #expect(ready, "\(daemon) sent \(got)")
        // READY=1 comes once, after the spool exists (the first scan read it).
        #expect(got.filter { $0.contains("READY=1") }.count == 1)
        #expect(FileManager.default.fileExists(atPath: dir.spool + "/incoming"))
        child.signal(SIGTERM)
        #expect(await child.wait(timeout: 10) == .exited(0))
        got += socket.drain()
        #expect(got.contains("STOPPING=1"), "\(daemon) said STOPPING=1 on SIGTERM: \(got)")
    }
}
