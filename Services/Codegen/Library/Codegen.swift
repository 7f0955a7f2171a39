// Codegen: the codegen stage's step. A problem goes through the provider chain in
// order (each provider behind its breaker), with the offline solver's verified
// answer in the prompt and the offline solver as the last link; the code is
// extracted, checked and auto-fixed, re-asked once when the check fails, kept as
// artifacts/<id>/attempt-N.py, and handed to render/. A job the renderer sent
// back gets a repair round. With every provider out and no offline answer, the
// job is deferred with backoff instead of failed.
import Logging
import MathreelCheck
import MathreelCore
import MathreelDaemon
import MathreelHTTP
import MathreelProviders
import MathreelSolver
import MathreelSpool
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

public struct Codegen: Sendable {
    public let spool: Spool
    public let config: Config
    public let settings: ProviderSettings
    public let breakers: Breakers
    public let solver: OfflineSolver
    public let checker: StaticChecker
    public let docs: DocsIndex
    public let http: any HTTPTransport
    public let logger: Logger

    public init(spool: Spool, config: Config, logger: Logger, http: any HTTPTransport = HTTPClient()) {
        self.spool = spool; self.config = config; self.logger = logger; self.http = http
        settings = ProviderSettings(environment: config.environment)
        breakers = Breakers(file: config.state + "/breakers.json")
        solver = OfflineSolver(python: config.python)
        checker = StaticChecker(config: config)
        docs = DocsIndex(state: config.state, python: config.python)
    }

    func failure(_ code: String, _ message: String) -> JobError { JobError(stage: "codegen", code: code, message: message) }

    /// How one try at one provider ended, for the job's record and the log.
    typealias Call = ProviderCall

    public func step(_ claim: Claim) async throws -> Outcome {
        var job = try claim.job()
        // A lesson's plan and each scene's code as they are written, in the claimed file.
        let progress = claim.progress(logger)
        guard job.kind == .problem, let problem = job.problem else {
            // Code needs no writing: it belongs to the renderer.
            return .handOn(job, to: .render)
        }
        job.record(.ai_generating, by: "codegen")
        _ = try spool.artifacts(job.id)
        if let repair = job.repairRequest { return try await repairRound(job, repair) }
        // A scene render sent back (its error) or an edit (its words); a plan shown while it was
        // being written, left by a crash, has neither and is planned again.
        if let plan = job.plan, plan.scenes.contains(where: { $0.status == .generating_code && ($0.error != nil || $0.edit != nil) }) {
            return try await repairScenes(job, plan)
        }

        let started = ContinuousClock.now
        let context = job.followUpContext
        let solved = await solver.solve(problem, context: context)
        let offlineSeconds = (ContinuousClock.now - started).seconds
        var calls: [Call] = []
        // An answer stands on agreeing readings: the solver's two, and the helper model's when one is set.
        let (offline, readings) = await heldAgainstHelper(solved, problem: problem, context: context, job: job, calls: &calls)
        if let readings { job.codegen = { var c = job.codegen ?? CodegenRecord(); c.readings = readings; return c }() }
        var stoppedByOurBug = false
        var laterMayWork = false
        for name in settings.chain {
            if name == .offline {
                guard case .solved(let solution) = offline else { continue }
                let (family, answer, lesson) = (solution.family, solution.answer, solution.lesson)
                let check = try await checker.check(solution.code)
                guard check.valid else {
                    // Our own scene failing our own check is a bug: say so in the log, and go on.
                    logger.error("the offline solver's scene failed the static check", metadata: ["job_id": "\(job.id)", "family": "\(family)", "errors": "\(check.message)"])
                    calls.append(Call(provider: "offline", outcome: "its scene failed the check", seconds: offlineSeconds))
                    continue
                }
                calls.append(Call(provider: "offline", outcome: "ok", seconds: offlineSeconds))
                if Codegen.wantsLesson(job), let plan = try await plan(job, lesson, family: family) {
                    return acceptLesson(job, plan: plan, answer: answer, family: family, calls: calls, started: started)
                }
                return try accept(job, code: check.code, provider: "offline", model: "sympy", answer: answer, family: family,
                                  calls: calls, started: started)
            }
            guard !stoppedByOurBug, let provider = settings.providers[name] else { continue }
            if Codegen.wantsLesson(job) {
                switch try await modelLesson(name, job: job, problem: problem, answer: offline.answer, calls: &calls, progress: progress) {
                case .done(let plan):
                    return acceptLesson(job, plan: plan, answer: offline.answer, family: nil, calls: calls, started: started,
                                        provider: name.rawValue, model: settings.provider(name, for: .scene)?.model ?? provider.model)
                case .resting: laterMayWork = true
                case .failed(let error):
                    laterMayWork = laterMayWork || error.mayPassWithTime
                    if !error.failsOver { stoppedByOurBug = true }
                }
                continue
            }
            let tried = await attempt(name, provider, job: job, calls: &calls) {
                Prompt.messages(problem: problem, context: context, verifiedAnswer: offline.answer, snippets: snippets(for: problem))
            }
            switch tried {
            case .done(let code):
                return try accept(job, code: code, provider: name.rawValue, model: provider.model, answer: offline.answer, family: nil,
                                  calls: calls, started: started)
            case .resting: laterMayWork = true
            case .failed(let error):
                laterMayWork = laterMayWork || error.mayPassWithTime
                if !error.failsOver { stoppedByOurBug = true }
            }
        }
        job.codegen = { var c = job.codegen ?? CodegenRecord(); c.calls = calls; return c }()
        // Nothing to wait for (no model, our own bug, or models that answered without usable code): say how to phrase one.
        if case .unsupported(let message) = offline, !laterMayWork || stoppedByOurBug {
            return .fail(job, failure(ErrorCode.unsupportedProblem, message))
        }
        // Every provider is out for now (rate limits, quotas, outages): try again later.
        let tried = calls.map { "\($0.provider): \($0.outcome)" }.joined(separator: "; ")
        return .postpone(job, failure(ErrorCode.providersExhausted,
                                   "Every code-writing service is busy or out of quota right now, and the built-in solver does not know this problem. The job will be tried again in a few minutes. (\(tried))"))
    }

    enum Tried<T> {
        case done(T)
        /// Its breaker is open: no call was made.
        case resting
        case failed(ProviderFailure)
    }

    /// One model's turn for one scene's code (the job's, when `scene` is nil).
    func attempt(_ name: ProviderName, _ provider: Provider, job: Job, calls: inout [Call], scene: Int? = nil,
                 messages: () -> [ChatMessage]) async -> Tried<String> {
        let m = messages()
        return await attempt(name, provider, job: job, calls: &calls, label: scene.map { "scene \($0)" }) { p throws(ProviderFailure) in
            try await generate(p, m, job: job, scene: scene)
        }
    }

    /// One model's turn: its breaker asked first, the call made, the breaker told how it went,
    /// the outcome recorded in `calls` (with `label`, what was asked) and logged.
    func attempt<T>(_ name: ProviderName, _ provider: Provider, job: Job, calls: inout [Call], label: String?,
                    _ body: (Provider) async throws(ProviderFailure) -> T) async -> Tried<T> {
        guard await breakers.allow(name) else {
            calls.append(Call(provider: name.rawValue, outcome: "skipped: \(await breakers.state(name).reason ?? "breaker open")", seconds: 0))
            return .resting
        }
        let start = ContinuousClock.now
        let what = label.map { ": " + $0 } ?? ""
        do throws(ProviderFailure) {
            let result = try await body(provider)
            await breakers.succeeded(name)
            calls.append(Call(provider: name.rawValue, outcome: "ok" + what, seconds: (ContinuousClock.now - start).seconds))
            return .done(result)
        } catch {
            await breakers.failed(name, error)
            calls.append(Call(provider: name.rawValue, outcome: (label.map { $0 + ": " } ?? "") + error.description, seconds: (ContinuousClock.now - start).seconds))
            if error.failsOver {
                logger.warning("provider failed; trying the next", metadata: ["job_id": "\(job.id)", "provider": "\(name.rawValue)", "error": "\(error)"])
            } else {
                // A 400 for our own request: every provider would refuse it. Loudly.
                logger.critical("a provider refused mathreel's request as malformed: a bug in mathreel, please report it",
                                metadata: ["job_id": "\(job.id)", "provider": "\(name.rawValue)", "error": "\(error)"])
            }
            return .failed(error)
        }
    }

    /// One provider's code for `messages`: extracted, checked (auto-fixed), and asked again once when the check fails.
    func generate(_ provider: Provider, _ messages: [ChatMessage], job: Job, scene: Int? = nil) async throws(ProviderFailure) -> String {
        let first = try await provider.complete(messages, via: http)
        let code = try Extraction.code(from: first.text)
        saveAttempt(job, code, scene: scene)
        let check = try await checked(code)
        if check.valid { return check.code }
        let again = try await provider.complete(Prompt.repair(messages, code: code, error: check.message), via: http)
        let second = try Extraction.code(from: again.text)
        saveAttempt(job, second, scene: scene)
        let recheck = try await checked(second)
        guard recheck.valid else { throw .noCode("the code failed the static check twice: \(recheck.message.prefix(300))") }
        return recheck.code
    }

    func checked(_ code: String) async throws(ProviderFailure) -> CheckResult {
        do { return try await checker.check(code) } catch {
            throw .noCode("the static check could not run: \(error)")
        }
    }

    /// A render error sent back by the renderer: the failing code and its error go to a model to be fixed.
    func repairRound(_ job: Job, _ repair: RepairRequest) async throws -> Outcome {
        var job = job
        let started = ContinuousClock.now
        let failing = repair.code.isEmpty ? job.code ?? "" : repair.code
        let error = [repair.error, repair.logTail.isEmpty ? nil : "The end of the render's log:\n" + repair.logTail]
            .compactMap { $0 }.joined(separator: "\n\n")
        let lastError = JobError(stage: "render", code: repair.errorCode, message: repair.error)
        job.repairRequest = nil
        // The provider that wrote the code first, then the rest of the chain's models.
        let wrote = ProviderName(rawValue: job.codegen?.provider ?? "")
        let order = (wrote.map { [$0] } ?? []) + settings.chain.filter { $0 != wrote }
        var calls: [Call] = []
        var laterMayWork = false
        for name in order where name != .offline {
            guard let provider = settings.providers[name] else { continue }
            let tried = await attempt(name, provider, job: job, calls: &calls) {
                Prompt.repair(Prompt.messages(problem: job.problem ?? "", context: job.followUpContext,
                                              verifiedAnswer: job.answer,
                                              snippets: snippets(for: job.problem ?? "")),
                              code: failing, error: error)
            }
            switch tried {
            case .done(let code):
                return try accept(job, code: code, provider: name.rawValue, model: provider.model, answer: job.answer,
                                  family: nil, calls: calls, started: started, note: "repaired after: \(lastError.message.prefix(200))")
            case .resting: laterMayWork = true
            case .failed(let e): laterMayWork = laterMayWork || e.mayPassWithTime
            }
        }
        job.codegen?.calls = calls
        if laterMayWork {
            job.repairRequest = repair  // kept for the next try
            return .postpone(job, failure(ErrorCode.providersExhausted, "The animation failed to render and every code-writing service is busy right now; the repair will be tried again in a few minutes."))
        }
        // No model could fix it (or none is configured): the person gets the render's own error.
        return .fail(job, lastError)
    }

    /// The code onward to render/, with what wrote it.
    func accept(_ job: Job, code: String, provider: String, model: String, answer: String?, family: String?,
                calls: [Call], started: ContinuousClock.Instant, note: String? = nil) throws -> Outcome {
        var job = job
        // The code as sent on (auto-fixed names included) is the last attempt on file.
        let last = attempts(job)
        if try last == 0 || spool.artifacts(job.id).tail("attempt-\(last).py", limit: 1 << 20) != Array(code.utf8) {
            saveAttempt(job, code)
        }
        job.code = code
        var codegen = job.codegen ?? CodegenRecord()
        codegen.provider = provider
        codegen.model = model
        codegen.repairs = codegen.repairs
        codegen.answer = answer ?? codegen.answer
        if let family { codegen.family = family }
        codegen.attempts = attempts(job)
        codegen.calls = calls
        codegen.totalSeconds = (ContinuousClock.now - started).seconds
        job.codegen = codegen
        job.history.append(HistoryEntry(status: job.status.rawValue, by: "codegen", note: note ?? "code by \(provider) (\(model))"))
        job.reach(.code_generation, note: "one scene")
        return .handOn(job, to: .render)
    }

    /// The docs' snippets for a prompt, unless MATHREEL_USE_RAG is off.
    func snippets(for problem: String) -> [String] { config.useRAG ? docs.snippets(for: problem) : [] }

    /// Every attempt's code is kept: attempt-1.py, attempt-2.py, ...; a lesson's scene-N-attempt-1.py, ...
    func saveAttempt(_ job: Job, _ code: String, scene: Int? = nil) {
        try? spool.artifacts(job.id).write(Array(code.utf8), as: Codegen.attemptPrefix(scene) + "\(attempts(job, scene: scene) + 1).py", exclusive: true)
    }

    static func attemptPrefix(_ scene: Int?) -> String { scene.map { "scene-\($0)-attempt-" } ?? "attempt-" }

    func attempts(_ job: Job, scene: Int? = nil) -> Int {
        let prefix = Codegen.attemptPrefix(scene)
        return ((try? spool.artifacts(job.id))?.list() ?? []).filter { $0.hasPrefix(prefix) }.count
    }

    public func loop() -> WorkerLoop {
        let concurrency = config.codegenConcurrency
        var loop = WorkerLoop(spool: spool, stage: .codegen, concurrency: concurrency, logger: logger) { claim in
            try await self.step(claim)
        }
        // Providers recover in minutes: six tries over about half an hour before a job fails.
        loop.backoff = Backoff(maxTries: 6, base: 30, cap: 600)
        return loop
    }
}

/// The `mathreel-codegen` daemon: the solver warmed, the docs index in the background, the stage's loop.
public enum CodegenDaemon {
    /// The `mathreel-codegen` daemon.
    public static func run(config: Config) async throws {
        let logger = Logger(label: "codegen")
        let spool = try Spool(root: config.spool)
        _ = PlainDirectory.makeIfMissing(config.state)
        let codegen = Codegen(spool: spool, config: config, logger: logger)
        for problem in codegen.settings.problems { logger.warning("MATHREEL_PROVIDERS: \(problem); left out of the chain") }
        logger.info("provider chain", metadata: ["chain": "\(codegen.settings.chain.map(\.rawValue).joined(separator: ","))"])
        await codegen.solver.warmUp()
        // The prompt's retrieval: Manim's docs indexed once per installed version (about a second), in the background.
        Task {
            await codegen.checker.prime()
            do { try await codegen.docs.ensure(installed: codegen.checker.installedStamp()) } catch {
                logger.warning("no docs index for the prompt: \(error)")
            }
        }
        try await Daemon.serve([codegen.loop()], name: "codegen", logger: logger)
        await codegen.solver.stop()
    }
}
