// `mathreel spool`: a table of every spool directory with how many entries it
// holds and how old the oldest is (for deferred/, when the next try is due),
// plus the free disk space and whether the disk guard refuses new work.
import ArgumentParser
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool

struct SpoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spool", abstract: "Show how many jobs each spool directory holds, and the oldest one's age.")

    @OptionGroup var daemon: DaemonOptions

    struct Row {
        var name: String
        var count: Int
        var oldest: String
    }

    func run() async throws {
        let config = try daemon.loadConfig()
        let spool = try daemon.openSpool(config, create: false)
        let now = Date().timeIntervalSince1970
        var rows: [Row] = []
        for place in Place.all {
            let names = ((try? spool.list(place)) ?? []).filter { n in
                switch place {
                case .tmp: true
                case .quarantine: !(n.string?.hasSuffix(".reason") ?? false)
                default: !n.isIgnored
                }
            }
            let times = names.compactMap { spool.info(place, $0)?.mtime }
            var oldest = "-"
            if case .deferred = place {
                if let next = times.min() { oldest = next > now ? "next try in \(Words.age(next - now))" : "due now" }
            } else if let first = times.min() {
                oldest = Words.age(now - first)
            }
            rows.append(Row(name: place.path + "/", count: names.count, oldest: oldest))
        }
        let artifacts = (try? spool.listArtifacts()) ?? []
        let artifactTimes = artifacts.compactMap { spool.artifactsInfo($0)?.mtime }
        rows.append(Row(name: "artifacts/", count: artifacts.count, oldest: artifactTimes.min().map { Words.age(now - $0) } ?? "-"))

        let width = max(12, rows.map(\.name.count).max() ?? 0) + 2
        Out.line("spool \(spool.absoluteRoot)")
        Out.line("directory".padding(toLength: width, withPad: " ", startingAt: 0) + "jobs".leftPad(6) + "  oldest")
        for r in rows {
            Out.line(r.name.padding(toLength: width, withPad: " ", startingAt: 0) + String(r.count).leftPad(6) + "  " + r.oldest)
        }
        Out.line("")
        let free = DiskGuard.freeBytes(spool).map(Words.bytes) ?? "unknown"
        Out.line("free disk: \(free) (new work is refused below \(Words.bytes(config.minFreeBytes)), MATHREEL_MIN_FREE_BYTES)")
        if let reason = DiskGuard.raisedReason(spool) {
            Out.line("disk guard: UP, new jobs are refused: \(reason)")
        } else {
            Out.line("disk guard: down, new jobs are accepted")
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
