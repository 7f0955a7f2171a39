// The whole pipeline with every daemon: a problem dropped into incoming/ becomes a
// link whose watch page a real browser (headless Chromium driven by Selenium)
// plays to its end; axe-core finds no WCAG 2.1 AA violation on the watch page or
// on the 410 page the same link shows once the video is deleted. And a problem
// typed into ingest's web page, with the keyboard only, comes back as its link.
import Foundation
import MathreelCore
import MathreelSpool
import MathreelSystem
import Testing
import TestSupport

@Suite(.serialized) struct EndToEndTests {
    @Test func aProblemDroppedIntoIncomingBecomesALinkThatPlaysInARealBrowser() async throws {
        let python = repoRoot + "/.venv-browser/bin/python"
        try #require(FileManager.default.isExecutableFile(atPath: python), "no browser environment: run `make setup-browser`")
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let settings = ["MATHREEL_PYTHON": manimPython, "MATHREEL_PROVIDERS": "offline", "MATHREEL_ACCESS_SETTLE_S": "3"]
        var daemons: [StartedDaemon] = []
        defer { daemons.forEach { $0.kill() } }
        for name in ["mathreel-ingest", "mathreel-codegen", "mathreel-render", "mathreel-janitor"] {
            daemons.append(try StartedDaemon.start(name, dir, settings))
        }
        let delivery = try await Delivery.start(dir, settings)
        daemons.append(delivery.daemon)

        // Dropped by hand: a bare problem, written in place like `cp` would.
        let name = "my-problem.json"
        try PlainFile.write(Array(#"{"problem": "Solve x^2 - 5x + 6 = 0"}"#.utf8), to: spool.path(.incoming, name))
        var id: String?
        #expect(await waitUntil(timeout: 600, interval: 0.2) {
            id = ((try? spool.list(.ready)) ?? []).compactMap(\.jobID).first
            return id != nil || !((try? spool.list(.failed)) ?? []).isEmpty || daemons.contains { $0.child.termination != nil }
        }, "\(daemons.map(\.log).joined(separator: "\n"))")
        for d in daemons { #expect(d.child.termination == nil, "a daemon stopped:\n\(d.log)") }
        let job = try await readyJob(spool, try #require(id, "the job failed: \(jobs(in: spool, .failed).first?.error?.message ?? "?")"))
        let url = try #require(job.delivery?.json["url"]?.stringValue)
        let stored = try #require(job.delivery?.json["path"]?.stringValue)
        #expect(job.codegen?.json["answer"]?.stringValue != nil)

        let run = try await runCommand(python, [repoRoot + "/Tests/Browser/watch_page.py", "--watch", url, "--gone", url, "--gone-within", "60", "--timeout", "120"],
                                       timeout: 400)
        let report = run.stdout.split(separator: "\n").last.flatMap { try? JSONValue.parse(Array($0.utf8)) }?.objectValue
        #expect(run.status == .exited(0), "\(run.stdout)\n\(run.stderr)")
        #expect(report?["played"] == .bool(true))
        #expect(report?["watch_violations"]?.intValue == 0)
        #expect(report?["gone_status"]?.intValue == 410)
        #expect(report?["gone_violations"]?.intValue == 0)
        // Played to its end: used up, moved to done/ and the file deleted.
        #expect(await waitUntil(timeout: 10) { spool.locate(job.id) == .done && !FileManager.default.fileExists(atPath: stored) })
    }

    @Test func aProblemTypedIntoTheWebPageComesBackAsItsLink() async throws {
        let python = repoRoot + "/.venv-browser/bin/python"
        try #require(FileManager.default.isExecutableFile(atPath: python), "no browser environment: run `make setup-browser`")
        let dir = TempDir()
        let ingestPort = freePort()
        let settings = ["MATHREEL_PYTHON": manimPython, "MATHREEL_PROVIDERS": "offline", "MATHREEL_INGEST_ADDR": "127.0.0.1:\(ingestPort)"]
        var daemons: [StartedDaemon] = []
        defer { daemons.forEach { $0.kill() } }
        for name in ["mathreel-ingest", "mathreel-codegen", "mathreel-render", "mathreel-janitor"] {
            daemons.append(try StartedDaemon.start(name, dir, settings))
        }
        daemons.append(try await Delivery.start(dir, settings).daemon)
        let base = "http://127.0.0.1:\(ingestPort)"
        #expect(await waitUntil(timeout: 30, interval: 0.1) { (try? PlainFile.read(dir.path + "/mathreel-ingest.log")).map { String(decoding: $0, as: UTF8.self).contains("\"msg\":\"ready\"") } ?? false })

        let run = try await runCommand(python, [repoRoot + "/Tests/Browser/web_page.py", "--base", base, "--problem", "Solve 2x + 3 = 11", "--timeout", "300"],
                                       timeout: 420)
        #expect(run.status == .exited(0), "\(run.stdout)\n\(run.stderr)\n\(daemons.map(\.log).joined(separator: "\n"))")
        #expect(run.stdout.contains("web page: all checks passed"), "\(run.stdout)")
        // The job the page sent went the whole way: it waits in ready/ with its link.
        let spool = try Spool(root: dir.spool)
        let ready = jobs(in: spool, .ready)
        #expect(ready.count == 1 && ready.first?.origin.channel == .web && ready.first?.problem == "Solve 2x + 3 = 11", "\(ready.map(\.id))")
    }
}
