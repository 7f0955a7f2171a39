// The records one stage writes for another: read back equal, unknown fields kept,
// counters saturating, a missing field read as the writing stage would have meant it.
import MathreelCore
import Testing

@Suite struct StageRecordTests {
    func sample() -> Job { Job(kind: .problem, problem: "Solve x^2 - 5x + 6 = 0", origin: JobOrigin(channel: .web)) }

    @Test func aRepairRequestRoundTripsThroughTheJobFileWithFieldsItDoesNotKnow() throws {
        var job = sample()
        var asked = RepairRequest(errorCode: ErrorCode.renderTimeout, error: "It took too long.", logTail: "line 1\nline 2", code: "class S(Scene): pass")
        asked.unknown = ["from_a_newer_build": .int(7)]
        job.repairRequest = asked
        job.repairs = 1
        let read = try Job.decode(job.encoded())
        #expect(read.repairRequest == asked)
        #expect(read.repairs == 1)
        #expect(read.codegen?["repair"]?.objectValue?["from_a_newer_build"] == .int(7))
        var done = read
        done.repairRequest = nil
        #expect(try Job.decode(done.encoded()).repairRequest == nil && done.repairs == 1, "the count stays once the repair is made")
    }

    @Test func aRepairRequestMissingItsFieldsReadsAsARenderFailure() {
        var job = sample()
        job.codegen = ["repair": .object([:]), "repairs": .int(-1_000_000)]
        #expect(job.repairRequest?.errorCode == ErrorCode.renderFailed && job.repairRequest?.code == "")
        #expect(job.repairs == 0, "a count below 0 reads as none")
        job.codegen = ["repair": .string("not an object")]
        #expect(job.repairRequest == nil)
    }

    @Test func theOtherStagesFieldsAreReadByName() {
        var job = sample()
        job.codegen = ["answer": .string("x = 2, x = 3")]
        job.delivery = ["url": .string("https://example.test/v/abc"), "expires_at": .string("2026-12-03T00:00:00Z")]
        job.followUpContext = "Solve x^2 - 4 = 0"
        job.extra["scene"] = .string("Second")
        #expect(job.answer == "x = 2, x = 3" && job.linkURL == "https://example.test/v/abc" && job.linkExpiresAt == "2026-12-03T00:00:00Z")
        #expect(job.followUpContext == "Solve x^2 - 4 = 0" && job.sceneName == "Second")
        job.followUpContext = nil
        #expect(job.extra["context"] == nil)
    }
}
