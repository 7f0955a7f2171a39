// Job.decode reads what a stage wrote, strictly; record(_:by:note:) moves a job
// to a status with the progress of docs/PROTOCOL.md's table and a history entry.
import Foundation
import MathreelCore
import Testing

func stageJob() -> Job {
    var job = Job(id: "0f8fad5b-d9cb-469f-a165-70867728950e", createdAt: "2026-11-21T17:00:00.000Z", kind: .problem,
                  problem: "Solve x^2 - 5x + 6 = 0", options: JobOptions(quality: .medium, format: .webm, maxDurationS: 60),
                  origin: JobOrigin(channel: .telegram, chatID: "123456789", sessionID: "s-1", messageID: "42"),
                  status: .queued)
    job.record(.queued, by: "ingest", note: "accepted from telegram", at: Date(timeIntervalSince1970: 1_795_280_400))
    job.next = "codegen"
    job.attempts = ["codegen": 1, "render": 0]
    job.codegen = ["provider": .string("groq"), "repairs": .int(0), "answer": .string("x = 2, x = 3")]
    return job
}

func stageObject() throws -> JSONObject {
    try #require(try JSONValue.parse(stageJob().encoded()).objectValue)
}

func decodeProblems(_ o: JSONObject) -> [String] {
    do {
        _ = try Job.decode(JSONValue.object(o).serialized())
        return []
    } catch let invalid as JobInvalid {
        return invalid.problems
    } catch {
        return ["unexpected error type \(type(of: error)): \(error)"]
    }
}

@Suite struct JobDecodeTests {
    @Test func aStageWrittenFileReadsBackEqual() throws {
        let job = stageJob()
        let decoded = try Job.decode(job.encoded())
        #expect(decoded == job)
        #expect(decoded.origin.channel == .telegram)
        #expect(decoded.origin.chatID == "123456789")
        #expect(decoded.attempts == ["codegen": 1, "render": 0])
        #expect(decoded.codegen?.json["answer"] == .string("x = 2, x = 3"))
        #expect(decoded.history.count == 1)
        #expect(decoded.history.first?.by == "ingest")
    }

    @Test(arguments: ["id", "created_at", "origin", "status"])
    func aRequiredFieldMissingIsRefused(_ field: String) throws {
        var o = try stageObject()
        o[field] = nil
        let problems = decodeProblems(o)
        #expect(problems.contains("`\(field)` is missing"), "\(problems)")
        // null counts as missing too
        o[field] = .null
        #expect(decodeProblems(o).contains("`\(field)` is missing"))
    }

    @Test func intakeFillsInWhatDecodeRequires() throws {
        // The same file without the four fields is fine for intake, not for decode.
        var o = try stageObject()
        for k in ["id", "created_at", "origin", "status"] { o[k] = nil }
        let bytes = JSONValue.object(o).serialized()
        #expect(throws: JobInvalid.self) { try Job.decode(bytes) }
        let job = try Job.intake(bytes, JobIntake(id: "6ba7b810-9dad-41d1-80b4-00c04fd430c8"))
        #expect(job.origin.channel == .file)
        #expect(job.status == .queued)
    }

    @Test func anOriginWithoutChannelIsRefused() throws {
        var o = try stageObject()
        o["origin"] = .object(["chat_id": .string("1")])
        #expect(decodeProblems(o).contains("`origin.channel` is missing"))
    }

    @Test func decodeKeepsTheStatusProgressAndErrorAStageWrote() throws {
        var job = stageJob()
        job.record(.rendering, by: "render")
        job.error = JobError(stage: "render", code: ErrorCode.renderTimeout, message: "The animation took longer than 300 s to render.")
        job.record(.failed, by: "render", note: "render_timeout")
        let decoded = try Job.decode(job.encoded())
        #expect(decoded.status == .failed)
        #expect(decoded.progress == 80)
        #expect(decoded.error == job.error)
        #expect(decoded.history.map(\.status) == ["queued", "rendering", "failed"])
    }

    @Test func decodeValidatesStageFieldsToo() throws {
        var o = try stageObject()
        o["status"] = .string("sleeping")
        o["progress"] = .int(101)
        o["attempts"] = .object(["codegen": .int(-1)])
        o["history"] = .array([.object(["at": .string("x")])])
        let problems = decodeProblems(o)
        #expect(problems.contains { $0.hasPrefix("`status` must be one of queued, ai_generating") })
        #expect(problems.contains { $0.contains("`progress` must be a whole number from 0 to 100; got 101") })
        #expect(problems.contains { $0.contains("`attempts.codegen` must be a whole number of 0 or more; got -1") })
        #expect(problems.contains { $0.contains("`history[0]` must be an object with `at`, `status` and `by`") })
    }

    @Test func decodeOfSomethingNotAnObjectIsRefused() {
        #expect(throws: JobInvalid.self) { try Job.decode(Array("[1]".utf8)) }
        #expect(throws: (any Error).self) { try Job.decode([UInt8]()) }
    }
}

@Suite struct RecordTests {
    static let table: [(JobStatus, Int?)] = [
        (.queued, 5), (.ai_generating, 50), (.code_validating, 60), (.rendering, 80),
        (.uploading, 95), (.ready, 100), (.delivered, 100), (.failed, nil), (.expired, nil),
    ]

    @Test func theProgressTableIsTheProtocols() {
        for (status, progress) in Self.table {
            #expect(status.progress == progress, "\(status)")
        }
        #expect(Set(Self.table.map(\.0)) == Set(JobStatus.allCases))
    }

    @Test(arguments: JobStatus.allCases)
    func recordSetsStatusProgressAndAppendsHistory(_ status: JobStatus) throws {
        var job = stageJob()
        job.record(.rendering, by: "render")
        #expect(job.progress == 80)
        let before = job.history.count
        let at = Date(timeIntervalSince1970: 1_795_284_000)
        job.record(status, by: "tester", note: "why not", at: at)
        #expect(job.status == status)
        // failed and expired keep the last progress; every other status sets its own.
        #expect(job.progress == (status.progress ?? 80))
        #expect(job.history.count == before + 1)
        let last = try #require(job.history.last)
        #expect(last.status == status.rawValue)
        #expect(last.by == "tester")
        #expect(last.note == "why not")
        #expect(last.at == Timestamp.string(at))
        #expect(last.at == "2026-11-21T18:00:00.000Z")
        // And it is written and read back.
        let decoded = try Job.decode(job.encoded())
        #expect(decoded.status == status)
        #expect(decoded.progress == job.progress)
        #expect(decoded.history == job.history)
    }

    @Test func aNoteIsOptional() throws {
        var job = stageJob()
        job.record(.ai_generating, by: "codegen")
        #expect(job.history.last?.note == nil)
        let written = try #require(try JSONValue.parse(job.encoded()).objectValue)
        guard case .array(let entries)? = written["history"], case .object(let last)? = entries.last else {
            Issue.record("history is written as a list of objects")
            return
        }
        #expect(last["note"] == nil, "no note key when there is no note")
        #expect(last["by"] == .string("codegen"))
    }
}
