// Job.intake: what a person wrote becomes a schema-1 job, or every problem with
// it is said in words the person can act on.
import Foundation
import MathreelCore
import Testing

let intakeID = "6ba7b810-9dad-41d1-80b4-00c04fd430c8"
let intakeNow = Date(timeIntervalSince1970: 1_795_280_400)  // 2026-11-21T17:00:00Z

func intakeJob(_ text: String, defaultQuality: Quality = .low) throws -> Job {
    try Job.intake(Array(text.utf8), JobIntake(id: intakeID, defaultQuality: defaultQuality, now: intakeNow))
}

/// The problems intake reports for these bytes; empty when the job was accepted.
func intakeProblems(_ bytes: [UInt8]) -> [String] {
    do {
        _ = try Job.intake(bytes, JobIntake(id: intakeID, now: intakeNow))
        return []
    } catch let invalid as JobInvalid {
        return invalid.problems
    } catch {
        return ["unexpected error type \(type(of: error)): \(error)"]
    }
}

func intakeProblems(_ text: String) -> [String] { intakeProblems(Array(text.utf8)) }

/// A JSON document `{"problem": <text>}` with the text escaped by our own serializer.
func problemJSON(_ problem: String) -> String {
    String(decoding: JSONValue.object(["problem": .string(problem)]).serialized(), as: UTF8.self)
}

func codeJSON(_ code: String) -> String {
    String(decoding: JSONValue.object(["code": .string(code)]).serialized(), as: UTF8.self)
}

@Suite struct JobIntakeDefaultsTests {
    @Test func aBareProblemGetsEverythingFilledIn() throws {
        let job = try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0"}"#)
        #expect(job.id == intakeID)
        #expect(job.kind == .problem)
        #expect(job.problem == "Solve x^2 - 5x + 6 = 0")
        #expect(job.code == nil)
        #expect(job.status == .queued)
        #expect(job.progress == 5)
        // A problem is a lesson unless it asks for one scene: the lesson's 180 s.
        #expect(job.options == JobOptions(quality: .low, format: .mp4, maxDurationS: 180))
        #expect(job.options.quality == .low)
        #expect(job.options.format == .mp4)
        #expect(job.options.maxDurationS == Lesson.defaultDuration)
        #expect(job.origin.channel == .file)
        #expect(job.origin.chatID == nil)
        #expect(job.createdAt == Timestamp.string(intakeNow))
        #expect(job.createdAt.hasPrefix("2026-11-21T17:00:00"))
        #expect(job.error == nil)
        #expect(job.extra.isEmpty)

        // What it writes is a complete schema-1 file that a stage can read strictly.
        let written = try #require(try JSONValue.parse(job.encoded()).objectValue)
        #expect(written["schema"] == .int(1))
        #expect(written["id"] == .string(intakeID))
        #expect(written["kind"] == .string("problem"))
        #expect(written["status"] == .string("queued"))
        #expect(written["progress"] == .int(5))
        #expect(written["options"] == .object(["quality": .string("low"), "format": .string("mp4"), "max_duration_s": .int(180),
                                               "scenes": .string("auto"), "narration": .string("on"), "language": .string("en")]))
        #expect(written["origin"] == .object(["channel": .string("file")]))
        #expect(try Job.decode(job.encoded()) == job)
    }

    @Test func aBareCodeJobIsKindCode() throws {
        let job = try intakeJob(#"{"code": "from manim import *\nclass S(Scene):\n    def construct(self): pass\n", "options": {"quality": "high"}}"#)
        #expect(job.kind == .code)
        #expect(job.code?.hasPrefix("from manim import *") == true)
        #expect(job.problem == nil)
        #expect(job.options.quality == .high)
        #expect(job.options.format == .mp4)
        #expect(job.status == .queued)
        #expect(job.progress == 5)
    }

    @Test func onlyALessonGetsTheLessonsDuration() throws {
        #expect(try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"scenes": 1}}"#).options.maxDurationS == 30)
        #expect(try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"scenes": 4}}"#).options.maxDurationS == 180)
        #expect(try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"max_duration_s": null}}"#).options.maxDurationS == 180)
        #expect(try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"max_duration_s": 45}}"#).options.maxDurationS == 45)
        #expect(try intakeJob(#"{"code": "from manim import *\nclass S(Scene):\n    def construct(self): pass\n"}"#).options.maxDurationS == 30)
        // A stage reading a job already taken in keeps what intake wrote.
        let kept = try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"scenes": 1}}"#)
        #expect(try Job.decode(kept.encoded()).options.maxDurationS == 30)
    }

    @Test func theIntakeDefaultQualityAppliesOnlyWhenTheFileGivesNone() throws {
        #expect(try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0"}"#, defaultQuality: .medium).options.quality == .medium)
        #expect(try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"quality": "low"}}"#, defaultQuality: .medium).options.quality == .low)
    }

    @Test func givenOptionsAndBoundaryDurationsAreAccepted() throws {
        let a = try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"quality": "medium", "format": "webm", "max_duration_s": 1}}"#)
        #expect(a.options == JobOptions(quality: .medium, format: .webm, maxDurationS: 1))
        let b = try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"max_duration_s": 300}}"#)
        #expect(b.options.maxDurationS == 300)
    }

    @Test func aPersonsFileIsQueuedAnewWhateverStatusItClaims() throws {
        let job = try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0", "status": "ready", "progress": 100, "error": {"code": "x", "message": "y"}}"#)
        #expect(job.status == .queued)
        #expect(job.progress == 5)
        #expect(job.error == nil)
    }

    /// What the stages record is theirs: a dropped file cannot set tries, crashes, code, paths or a link.
    @Test func aPersonsFileCannotSetWhatTheStagesRecord() throws {
        let job = try intakeJob(#"""
            {"problem": "Solve x^2 - 5x + 6 = 0", "next": "ready", "attempts": {"render": 9223372036854775807}, "crashes": {"codegen": 2},
             "codegen": {"repairs": -1000000, "provider": "groq"}, "render": {"video": "../../etc/mathreel/mathreel.env"},
             "delivery": {"path": "/etc/mathreel/mathreel.env", "url": "https://evil.example/v/x"}}
            """#)
        #expect(job.next == nil && job.attempts.isEmpty && job.crashes.isEmpty)
        #expect(job.codegen == nil && job.render == nil && job.delivery == nil)
    }

    @Test func theIntakeIDReplacesAnIDInTheFile() throws {
        let job = try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0", "id": "11111111-2222-4333-8444-555555555555"}"#)
        #expect(job.id == intakeID)
    }

    @Test func theProblemIsStoredTrimmed() throws {
        let job = try intakeJob(problemJSON("  \n Solve x^2 - 5x + 6 = 0 \t\n"))
        #expect(job.problem == "Solve x^2 - 5x + 6 = 0")
    }
}

@Suite struct UnknownFieldsTests {
    static let document = #"""
    {
      "problem": "Solve x^2 - 5x + 6 = 0",
      "x_client": {"name": "script", "version": [1, 2, 3], "nested": {"deep": {"deeper": [true, false, null, 2.5, "s"]}}},
      "x_count": 42,
      "x_negative": -7,
      "x_big": 9007199254740993,
      "x_fraction": 0.125,
      "x_flag": true,
      "x_off": false,
      "x_nothing": null,
      "x_empty_object": {},
      "x_empty_list": [],
      "x_text": "line1\nline2 \"quoted\" \u0001 é 😀",
      "origin": {
        "chat_id": "123456789",
        "x_thread": {"id": 5, "title": "algebra", "tags": ["a", "b"]},
        "x_is_group": true,
        "x_weight": 1.5,
        "x_seq": 9,
        "x_none": null
      }
    }
    """#

    @Test func unknownFieldsSurviveIntakeEncodeDecodeWithTheirValues() throws {
        let original = try #require(try JSONValue.parse(Array(Self.document.utf8)).objectValue)
        let job = try intakeJob(Self.document)
        let decoded = try Job.decode(job.encoded())
        #expect(decoded == job)

        let written = try #require(try JSONValue.parse(decoded.encoded()).objectValue)
        for (key, value) in original where key.hasPrefix("x_") {
            #expect(written[key] == value, "top-level \(key) kept as it came")
            #expect(decoded.extra[key] == value)
        }
        #expect(written["x_nothing"] == .null, "a null unknown field is kept, not dropped")
        #expect(written["x_count"] == .int(42))
        #expect(written["x_big"] == .int(9_007_199_254_740_993), "a large integer stays an exact integer")
        #expect(written["x_fraction"] == .double(0.125))

        let originOriginal = try #require(original["origin"]?.objectValue)
        let originWritten = try #require(written["origin"]?.objectValue)
        for (key, value) in originOriginal where key.hasPrefix("x_") {
            #expect(originWritten[key] == value, "origin.\(key) kept as it came")
            #expect(decoded.origin.extra[key] == value)
        }
        #expect(originWritten["x_none"] == .null)
        #expect(originWritten["chat_id"] == .string("123456789"))
        #expect(originWritten["channel"] == .string("file"))

        // Writing is deterministic: the same job gives the same bytes.
        #expect(decoded.encoded() == job.encoded())
    }

    @Test func aNumericChatIDIsKeptAsText() throws {
        let job = try intakeJob(#"{"problem": "Solve x^2 - 5x + 6 = 0", "origin": {"chat_id": 123456789}}"#)
        #expect(job.origin.chatID == "123456789")
    }
}

/// One bad input and the words its message must contain.
struct BadInput: Sendable, CustomTestStringConvertible {
    let label: String
    let bytes: [UInt8]
    let expected: [String]
    init(_ label: String, _ text: String, _ expected: String...) {
        self.label = label; self.bytes = Array(text.utf8); self.expected = expected
    }
    init(_ label: String, bytes: [UInt8], _ expected: String...) {
        self.label = label; self.bytes = bytes; self.expected = expected
    }
    var testDescription: String { label }
}

let longCode = String(repeating: "# padding line for a large manim file\n", count: 1_400)  // 53,200 bytes

let badInputs: [BadInput] = [
    BadInput("quality ultra", #"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"quality": "ultra"}}"#,
             "`options.quality` must be one of low, medium, high; got 'ultra'"),
    BadInput("format avi", #"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"format": "avi"}}"#,
             "`options.format` must be one of mp4, webm; got 'avi'"),
    BadInput("duration 0", #"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"max_duration_s": 0}}"#,
             "`options.max_duration_s` must be a whole number of seconds from 1 to 300; got 0"),
    BadInput("duration 301", #"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"max_duration_s": 301}}"#,
             "`options.max_duration_s` must be a whole number of seconds from 1 to 300; got 301"),
    BadInput("duration text", #"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"max_duration_s": "abc"}}"#,
             "`options.max_duration_s` must be a whole number of seconds from 1 to 300; got 'abc'"),
    BadInput("duration fraction", #"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"max_duration_s": 1.5}}"#,
             "`options.max_duration_s`", "got 1.5"),
    BadInput("unknown option", #"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"speed": 2}}"#,
             "`options.speed` is not an option; the options are quality, format, max_duration_s"),
    BadInput("problem of 9 characters", problemJSON("Solve x=1"),
             "`problem` is too short (9 characters)", "at least 10 characters"),
    BadInput("problem of 9 emoji (36 bytes)", problemJSON(String(repeating: "😀", count: 9)),
             "`problem` is too short (9 characters)"),
    BadInput("problem of 5,001 characters", problemJSON(String(repeating: "a", count: 5_001)),
             "`problem` is too long (5001 characters); at most 5000 are accepted"),
    BadInput("problem of 5,001 Hebrew letters", problemJSON(String(repeating: "ש", count: 5_001)),
             "`problem` is too long (5001 characters)"),
    BadInput("problem only spaces", problemJSON("          \n\t          "),
             "`problem` is too short (0 characters)"),
    BadInput("code over 50 KB", codeJSON(longCode), "`code` is too large", "at most 50 KB"),
    BadInput("code one byte over 50 KB", codeJSON(String(repeating: "x", count: 50 * 1024 + 1)), "`code` is too large"),
    BadInput("empty code", #"{"code": ""}"#, "`code` is empty"),
    BadInput("blank code", #"{"code": "  \n\t "}"#, "`code` is empty"),
    BadInput("problem and code", #"{"problem": "Solve x^2 - 5x + 6 = 0", "code": "print(1)"}"#,
             "give either `problem` or `code`, not both"),
    BadInput("neither", #"{"options": {"quality": "low"}}"#,
             "the job has neither `problem`", "nor `code`"),
    BadInput("empty object", "{}", "the job has neither `problem`"),
    BadInput("a list", #"["Solve x^2 - 5x + 6 = 0"]"#, "the file holds a list, not a JSON object"),
    BadInput("a string", #""Solve x^2 - 5x + 6 = 0""#, "the file holds text, not a JSON object"),
    BadInput("a number", "42", "the file holds a number, not a JSON object"),
    BadInput("null", "null", "the file holds null, not a JSON object"),
    BadInput("empty bytes", bytes: [], "the file is empty"),
    BadInput("invalid UTF-8", bytes: Array(#"{"problem": "Caf"#.utf8) + [0xE9] + Array(#" au lait costs 5 x"}"#.utf8),
             "the file is not UTF-8 text"),
    BadInput("binary junk", bytes: [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0xFF, 0xFE, 0x00, 0x80, 0x81],
             "the file is not UTF-8 text"),
    BadInput("truncated JSON", #"{"problem": "Solve x^2"#, "the file is not valid JSON"),
    BadInput("problem as a number", #"{"problem": 42}"#, "`problem` must be text; got a number"),
    BadInput("options as a string", #"{"problem": "Solve x^2 - 5x + 6 = 0", "options": "high"}"#,
             "`options` must be an object like {\"quality\": \"low\"}; got text"),
    BadInput("origin as a list", #"{"problem": "Solve x^2 - 5x + 6 = 0", "origin": []}"#,
             "`origin` must be an object; got a list"),
    BadInput("chat_id as an object", #"{"problem": "Solve x^2 - 5x + 6 = 0", "origin": {"chat_id": {"id": 1}}}"#,
             "`origin.chat_id` must be text; got an object"),
    BadInput("unknown channel", #"{"problem": "Solve x^2 - 5x + 6 = 0", "origin": {"channel": "fax"}}"#,
             "`origin.channel` must be one of telegram, whatsapp, web, api, file; got 'fax'"),
    BadInput("schema 2", #"{"schema": 2, "problem": "Solve x^2 - 5x + 6 = 0"}"#, "`schema` must be 1; got 2"),
    BadInput("schema as text", #"{"schema": "1", "problem": "Solve x^2 - 5x + 6 = 0"}"#, "`schema` must be 1; got '1'"),
    BadInput("bad id", #"{"id": "job-42", "problem": "Solve x^2 - 5x + 6 = 0"}"#,
             "`id` must be a UUID like 6ba7b810-9dad-41d1-80b4-00c04fd430c8; got 'job-42'"),
    BadInput("id as a number", #"{"id": 42, "problem": "Solve x^2 - 5x + 6 = 0"}"#, "`id` must be text; got a number"),
    BadInput("bad created_at", #"{"created_at": "yesterday", "problem": "Solve x^2 - 5x + 6 = 0"}"#,
             "`created_at` must be an ISO 8601 time like 2026-11-21T17:00:00Z; got 'yesterday'"),
    BadInput("unknown kind", #"{"kind": "video", "problem": "Solve x^2 - 5x + 6 = 0"}"#,
             "`kind` must be one of problem, code; got 'video'"),
    BadInput("kind code without code", #"{"kind": "code", "problem": "Solve x^2 - 5x + 6 = 0"}"#,
             "`kind` is code but `code` is missing"),
]

@Suite struct ValidationMessageTests {
    @Test(arguments: badInputs)
    func eachBadInputIsRefusedWithItsMessage(_ input: BadInput) {
        let problems = intakeProblems(input.bytes)
        #expect(!problems.isEmpty, "\(input.label) must be refused")
        let all = problems.joined(separator: " | ")
        for words in input.expected {
            #expect(all.contains(words), "\(input.label): expected «\(words)» in «\(all)»")
        }
        // The message is for a person: one line each, never a Swift type dump.
        for p in problems {
            #expect(!p.contains("DecodingError") && !p.contains("JSONValue") && !p.contains("Optional("), "plain words: \(p)")
        }
    }

    @Test func theQualityMessageIsExact() {
        #expect(intakeProblems(#"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"quality": "ultra"}}"#)
            == ["`options.quality` must be one of low, medium, high; got 'ultra'"])
    }

    @Test func problemsAreCountedInCharactersNotBytes() throws {
        let cases: [(String, String)] = [
            ("ten emoji (40 bytes)", String(repeating: "😀", count: 10)),
            ("ten family emoji (ZWJ sequences, 250 bytes)", String(repeating: "👨‍👩‍👧‍👦", count: 10)),
            ("ten characters of right-to-left text", "שלום עולם!"),
            ("Arabic", "حل المعادلة س"),
            ("ten accented letters built with combining marks", String(repeating: "e\u{301}", count: 10)),
            ("exactly 10 ASCII characters", "Solve x=12"),
            ("5,000 Hebrew letters (10,000 bytes)", String(repeating: "ש", count: 5_000)),
            ("5,000 ASCII characters", String(repeating: "a", count: 5_000)),
        ]
        for (label, text) in cases {
            let problems = intakeProblems(problemJSON(text))
            #expect(problems.isEmpty, "\(label) (\(text.count) characters, \(text.utf8.count) bytes) must be accepted: \(problems)")
            if problems.isEmpty {
                let job = try intakeJob(problemJSON(text))
                #expect(job.problem == text)
                #expect(job.kind == .problem)
            }
        }
        #expect("שלום עולם!".count == 10 && "שלום עולם!".utf8.count > 10, "the fixture really has more bytes than characters")
    }

    @Test func codeIsMeasuredInBytesUpTo50KB() throws {
        let exact = String(repeating: "x", count: 50 * 1024)
        #expect(intakeProblems(codeJSON(exact)).isEmpty, "exactly 50 KB is accepted")
        // 20,000 characters of 3-byte text is 60,000 bytes: over the limit although short in characters.
        let wide = "# " + String(repeating: "中", count: 20_000)
        #expect(intakeProblems(codeJSON(wide)).joined().contains("`code` is too large"))
    }

    @Test func severalProblemsInOneFileAreAllReported() {
        let problems = intakeProblems(#"""
            {"schema": 2, "id": "nope", "created_at": "soon", "problem": "short",
             "options": {"quality": "ultra", "format": "avi", "max_duration_s": 0, "speed": 2},
             "origin": {"chat_id": {"id": 1}}}
            """#)
        let expected = [
            "`schema` must be 1; got 2",
            "`id` must be a UUID",
            "`created_at` must be an ISO 8601 time",
            "`problem` is too short (5 characters)",
            "`options.speed` is not an option",
            "`options.quality` must be one of low, medium, high; got 'ultra'",
            "`options.format` must be one of mp4, webm; got 'avi'",
            "`options.max_duration_s` must be a whole number of seconds from 1 to 300; got 0",
            "`origin.chat_id` must be text; got an object",
        ]
        #expect(problems.count == expected.count, "\(problems)")
        for words in expected {
            #expect(problems.contains { $0.contains(words) }, "expected «\(words)» among \(problems)")
        }
        // The error's description carries all of them, for a reason file.
        do {
            _ = try Job.intake(Array(#"{"problem": 1, "options": "x"}"#.utf8), JobIntake(id: intakeID))
            Issue.record("must be refused")
        } catch let invalid as JobInvalid {
            #expect(invalid.description.contains("`problem` must be text"))
            #expect(invalid.description.contains("`options` must be an object"))
            #expect(invalid.description.contains("; "))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func aLongBadValueIsQuotedShortInTheMessage() {
        let problems = intakeProblems(#"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"quality": "\#(String(repeating: "u", count: 500))"}}"#)
        let message = problems.joined()
        #expect(message.contains("got 'uuuu"))
        #expect(message.count < 200, "the value is shortened in the message: \(message.count) characters")
    }
}
