// The repair counter comes from a job file anyone who can write the spool controls:
// a huge or negative `codegen.repairs` neither traps nor buys more repairs than
// MATHREEL_MAX_REPAIRS.
import Logging
import MathreelCore
import MathreelSpool
import RenderService
import Testing
import TestSupport

@Suite struct RepairCounterTests {
    func renderer() throws -> Renderer {
        let dir = TempDir("mathreel-repairs")
        var config = try Config(environment: ["MATHREEL_PYTHON": manimPython, "MATHREEL_STATE": dir.state, "MATHREEL_MAX_REPAIRS": "2"])
        config.spool = dir.spool
        return Renderer(spool: try Spool(root: dir.spool), config: config, logger: Logger(label: "test"))
    }

    func outcome(_ repairs: JSONValue) throws -> (Outcome, Job) {
        var job = Job(kind: .problem, problem: "Solve x + 1 = 2 for x", origin: JobOrigin(channel: .api))
        job.code = "from manim import *\nclass A(Scene):\n    def construct(self):\n        self.wait()\n"
        job.codegen = ["provider": .string("groq"), "repairs": repairs]
        let error = JobError(stage: "render", code: ErrorCode.renderFailed, message: "NameError")
        return (try renderer().repairOrFail(job, error), job)
    }

    @Test(arguments: [JSONValue.int(-1_000_000), .int(Int64.min), .double(-0.5), .string("x"), .null])
    func aNegativeOrNonsenseCounterCountsAsNoRepairYet(_ repairs: JSONValue) throws {
        let (o, _) = try outcome(repairs)
        guard case .handOn(let job, let place) = o else { Issue.record("expected a repair, got \(o)"); return }
        #expect(place == .codegen)
        #expect(job.codegen?.json["repairs"] == .int(1), "the next repair is the first, not \(repairs) + 1")
    }

    @Test(arguments: [JSONValue.int(Int64.max), .int(2), .double(1e300)])
    func aCounterAtOrPastTheLimitFailsWithoutATrap(_ repairs: JSONValue) throws {
        let (o, _) = try outcome(repairs)
        guard case .fail(_, let error) = o else { Issue.record("expected a failure, got \(o)"); return }
        #expect(error.code == ErrorCode.renderFailed)
    }
}
