// The protocol's one table of moves, held against the code that moves jobs and
// against docs/ARCHITECTURE.md's "Every move" table: neither can drift alone.
import Foundation
import Logging
import MathreelCore
import MathreelSpool
import MathreelSystem
import Testing
import TestSupport

@Suite struct MoveTableTests {
    /// The rows of ARCHITECTURE's "Every move" table, placeholders expanded as its text says.
    static func documentedMoves() throws -> Set<Move> {
        let text = try String(contentsOfFile: repoRoot + "/docs/ARCHITECTURE.md", encoding: .utf8)
        guard let start = text.range(of: "### Every move") else { throw TestFailure("ARCHITECTURE.md has no \"Every move\" section") }
        let section = text[start.upperBound...].prefix { _ in true }
        var rows: [[String]] = []
        for line in section.split(separator: "\n", omittingEmptySubsequences: false).drop(while: { !$0.hasPrefix("|") }) {
            guard line.hasPrefix("|") else { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "") }
            if cells.first == "from" || cells.first?.hasPrefix("---") == true { continue }
            rows.append(cells)
        }
        func place(_ s: String) throws -> Place {
            let path = s.hasSuffix("/") ? String(s.dropLast()) : s
            guard let p = Place(path: path) else { throw TestFailure("ARCHITECTURE.md names a place mathreel does not have: \(s)") }
            return p
        }
        func mover(_ s: String) throws -> Mover {
            guard let m = Mover(rawValue: s) else { throw TestFailure("ARCHITECTURE.md names a mover mathreel does not have: \(s)") }
            return m
        }
        var out = Set<Move>()
        for cells in rows {
            guard cells.count >= 3 else { throw TestFailure("a row of the moves table has \(cells.count) cells: \(cells)") }
            let (from, to, by) = (cells[0], cells[1], cells[2])
            if from.contains("<queue>") || from.contains("<stage>") || to.contains("<queue>") || to.contains("<stage>") {
                for stage in Stage.allCases {
                    func fill(_ s: String) -> String {
                        s.replacingOccurrences(of: "<queue>", with: Place.queue(stage).path).replacingOccurrences(of: "<stage>", with: stage.rawValue)
                    }
                    out.insert(Move(try mover(fill(by)), try place(fill(from)), try place(fill(to))))
                }
            } else if from.contains("<place>") {
                for q in Place.claimable {
                    // active/ of incoming/ is active/ingest/: the place is named by its value, not its path.
                    guard from == "active/<place>/" else { throw TestFailure("a <place> row must start at active/<place>/: \(from)") }
                    let source = Place.active(q)
                    if to == "<next>" {
                        for target in Place.all where Moves.allows(from: q, to: target) { out.insert(Move(try mover(by), source, target)) }
                    } else {
                        out.insert(Move(try mover(by), source, try place(to.replacingOccurrences(of: "<place>", with: q.path))))
                    }
                }
            } else {
                out.insert(Move(try mover(by), try place(from), try place(to)))
            }
        }
        return out
    }

    @Test func architectureSaysEveryMoveTheCodeAllowsAndNoOther() throws {
        let documented = try MoveTableTests.documentedMoves()
        let code = Set(Moves.table)
        #expect(documented.subtracting(code).isEmpty, "in ARCHITECTURE.md but not in Moves.table: \(documented.subtracting(code).map(\.description).sorted())")
        #expect(code.subtracting(documented).isEmpty, "in Moves.table but not in ARCHITECTURE.md: \(code.subtracting(documented).map(\.description).sorted())")
    }

    @Test func everyStageHandsOnOnlyWhereTheTableSays() {
        #expect(Moves.allows(from: .render, to: .codegen), "the repair's back edge")
        #expect(Moves.allows(from: .failed, to: .incoming), "a requeue")
        #expect(Moves.allows(from: .codegen, to: .deferred(.codegen)))
        #expect(!Moves.allows(from: .codegen, to: .deferred(.render)), "a stage defers into its own deferred/ only")
        #expect(!Moves.allows(from: .codegen, to: .done), "no stage skips delivery")
        #expect(!Moves.allows(from: .done, to: .incoming), "a watched job is never sent again")
        #expect(!Moves.allows(from: .failed, to: .ready), "a failed job's link is not revived")
        #expect(Moves.claimers(of: .quarantine).isEmpty && Moves.claimers(of: .tmp).isEmpty)
    }

    @Test func aHandOnTheTableLacksIsRefusedAndTheJobStaysClaimed() throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let job = Job(kind: .problem, problem: "Solve x + 1 = 2 for x", origin: JobOrigin(channel: .file))
        try spool.submit(job, to: .codegen)
        guard case .claimed(let claim) = spool.claim(FileName(job.id + ".json"), from: .codegen) else {
            Issue.record("the job could not be claimed")
            return
        }
        #expect(throws: MoveRefused.self) { try claim.handOn(job, to: .done) }
        #expect(spool.locate(job.id) == .active(.codegen), "a refused move moves nothing")
        try claim.putBack()
        #expect(spool.locate(job.id) == .codegen)
    }

    @Test func aLoopOverAPlaceNoOneConsumesDoesNotStart() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let loop = WorkerLoop(spool: spool, queue: .quarantine, name: "nobody", logger: Logger(label: "test")) { _ in .handled }
        await #expect(throws: MoveRefused.self) { try await loop.run() }
    }
}
