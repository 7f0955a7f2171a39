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
        #expect(read.codegen?.json["repair"]?.objectValue?["from_a_newer_build"] == .int(7))
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

    @Test func eachRecordKeepsWhatANewerBuildWroteThroughAReadAndAWrite() throws {
        var job = sample()
        job.codegen = ["provider": .string("groq"), "plan": .object(["scenes": .int(3)])]
        job.render = ["duration_s": .double(4.5), "scenes": .array([.string("a.mp4")])]
        job.delivery = ["url": .string("https://example.test/v/abc"), "captions_url": .string("https://example.test/c")]
        var read = try Job.decode(job.encoded())
        read.codegen?.model = "llama"
        read.render?.cacheHit = true
        read.delivery?.bytes = 1234
        let again = try Job.decode(read.encoded())
        #expect(again.codegen?.json["plan"] == .object(["scenes": .int(3)]) && again.codegen?.model == "llama")
        #expect(again.render?.json["scenes"] == .array([.string("a.mp4")]) && again.render?.durationS == 4.5 && again.render?.cacheHit == true)
        #expect(again.delivery?.json["captions_url"] == .string("https://example.test/c") && again.delivery?.bytes == 1234)
    }

    @Test func aKnownFieldOfTheWrongKindIsNamedWhenAStageReadsTheFile() throws {
        var o = sample().jsonObject
        o["codegen"] = .object(["answer": .int(5), "calls": .string("none")])
        o["render"] = .object(["cache_hit": .string("yes"), "duration_s": .string("long")])
        o["delivery"] = .object(["url": .array([])])
        let problems = (#expect(throws: JobInvalid.self) { try Job.decode(JSONValue.object(o).serialized()) })?.problems ?? []
        for expected in ["`codegen.answer` must be text; got a number", "`codegen.calls` must be a list; got text",
                         "`render.cache_hit` must be true or false; got text", "`render.duration_s` must be a number; got text",
                         "`delivery.url` must be text; got a list"] {
            #expect(problems.contains(expected), "\(problems)")
        }
    }

    @Test func theRenderAndCodegenRecordsReadAsTheyWereWritten() throws {
        var job = sample()
        var render = RenderRecord()
        render.video = "artifacts/\(job.id)/video.mp4"
        render.width = 854
        render.timings = RenderTimings(check: 0.25, total: 3)
        job.render = render
        var codegen = CodegenRecord()
        codegen.calls = [ProviderCall(provider: "groq", outcome: "rate limited", seconds: 0.5), ProviderCall(provider: "offline", outcome: "ok", seconds: 0.1)]
        codegen.totalSeconds = 0.75
        job.codegen = codegen
        let read = try Job.decode(job.encoded())
        #expect(read.render?.video == "artifacts/\(job.id)/video.mp4" && read.render?.width == 854 && read.render?.cacheHit == false)
        #expect(read.render?.timings == RenderTimings(check: 0.25, total: 3))
        #expect(read.codegen?.calls.map(\.outcome) == ["rate limited", "ok"] && read.codegen?.totalSeconds == 0.75)
    }
}
