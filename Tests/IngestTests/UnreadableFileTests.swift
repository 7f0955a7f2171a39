// A file in incoming/ that ingest may not read is set aside with its reason, once,
// instead of being tried again every second forever. Ingest runs unprivileged here
// (as nobody when the test is root: root reads every file), from a copy of its
// binary, so the checkout's own directories need not be open to others.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite struct UnreadableFileTests {
    @Test(.timeLimit(.minutes(2)))
    func aFileIngestMayNotReadIsQuarantinedOnceWithItsReason() async throws {
        let dir = TempDir("mathreel-unreadable")
        chmod(dir.path, 0o755)
        let spool = try Spool(root: dir.spool)
        let binary = dir.path + "/mathreel-ingest"
        try FileManager.default.copyItem(atPath: Binaries.path("mathreel-ingest"), toPath: binary)
        chmod(binary, 0o755)
        var wrapper: [String] = []
        let nobody: uid_t = 65534
        try FileManager.default.createDirectory(atPath: dir.state, withIntermediateDirectories: true)
        if geteuid() == 0 {
            // The spool and state belong to nobody; the job file stays root's, mode 0600.
            for path in try [dir.spool, dir.state] + FileManager.default.subpathsOfDirectory(atPath: dir.spool).map({ dir.spool + "/" + $0 }) {
                chown(path, nobody, nobody)
            }
            wrapper = ["/usr/bin/setpriv", "--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", "--"]
        }
        let secret = spool.path(.incoming) + "/private.json"
        try Data(#"{"problem": "Solve x^2 - 1 = 0 for x"}"#.utf8).write(to: URL(fileURLWithPath: secret))
        chmod(secret, 0o600)
        if geteuid() != 0 { chmod(secret, 0o000) }

        let daemon = try StartedDaemon.start(binary, dir, ["MATHREEL_INGEST_ADDR": "127.0.0.1:\(freePort())"], wrapper: wrapper, log: "ingest.log")
        let log = daemon.logPath, child = daemon.child
        defer { child.signalGroup(SIGKILL) }

        let reasons = { ((try? FileManager.default.contentsOfDirectory(atPath: spool.path(.quarantine))) ?? []).filter { $0.hasSuffix(".reason") } }
        // The reason is written before the file moves (a crash between leaves a note, not a
        // silent file), so the move is done only once the file has left incoming/ too.
        let set = await waitUntil(timeout: 30) { reasons().count == 1 && !FileManager.default.fileExists(atPath: secret) }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(set, "not quarantined: \(text.suffix(2000))")
        let reason = try #require(reasons().first, "no reason written")
        let why = try String(contentsOfFile: spool.path(.quarantine) + "/" + reason, encoding: .utf8)
        #expect(why.contains("permission denied") && why.contains("readable by the mathreel user"), "\(why)")
        #expect(!FileManager.default.fileExists(atPath: secret), "the file left incoming/")
        #expect(child.termination == nil, "ingest kept running: \(text.suffix(2000))")
    }
}
