// Edit: a new version of a lesson with one scene written again (SPEC §8, "Edits").
// The new job keeps the parent's problem, options, plan and answer; every other
// scene's code is copied byte for byte into its own artifacts, and only scene N is
// marked for codegen (`generating_code`, with the person's words in `edit`). The API,
// the chat's /edit and `mathreel edit` all make it here; each publishes it its way.
import MathreelCore
import MathreelSystem

/// Why an edit was refused: an HTTP status, a code from §3/§8 and words a person can act on.
public struct EditRefusal: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String
    public var description: String { message }
}

extension Spool {
    /// The places a lesson may be edited from: finished, its metadata still kept.
    static let editable: [Place] = [.ready, .done, .failed]

    /// Scene `n` of `parentID` to be written again as `prompt` asks: the new job, its
    /// artifacts in place, not yet published.
    public func makeEdit(of parentID: String, scene n: Int, prompt: String, origin: JobOrigin, by: String, id: String = JobID.make()) throws -> Job {
        guard JobID.isValid(parentID), let found = find(parentID), let parent = found.job else {
            throw EditRefusal(status: 404, code: "not_found", message: "There is no job \(parentID) to edit (finished jobs are kept for their lifetime, 7 days by default).")
        }
        guard Spool.editable.contains(found.place) else {
            throw EditRefusal(status: 409, code: "not_finished", message: "Job \(parentID) is still being made (\(found.place.path)/); edit it once its link is ready.")
        }
        guard let plan = parent.plan else {
            throw EditRefusal(status: 404, code: ErrorCode.noSuchScene, message: "Job \(parentID) is one scene, not a lesson, so it has no scene \(n) to edit. Send the problem again with the change in words.")
        }
        guard (1...plan.scenes.count).contains(n) else {
            throw EditRefusal(status: 404, code: ErrorCode.noSuchScene, message: "Job \(parentID) has scenes 1 to \(plan.scenes.count); there is no scene \(n).")
        }
        let words = prompt.trimmed()
        guard (1...2_000).contains(words.count) else {
            throw EditRefusal(status: 400, code: "invalid_job", message: "Say what to change in scene \(n) in 1 to 2,000 characters.")
        }
        let from = try artifacts(parentID)
        for s in plan.scenes where (from.size(Lesson.codeFile(s.n)) ?? 0) == 0 {
            throw EditRefusal(status: 410, code: "expired", message: "Job \(parentID)'s scene code is no longer kept, so it cannot be edited. Send the problem again.")
        }
        var job = Job(id: id, kind: .problem, problem: parent.problem, options: parent.options, origin: origin)
        job.version = min(parent.version, 1_000_000) + 1
        job.parentID = parent.id
        var codegen = CodegenRecord()
        codegen.provider = parent.codegen?.provider
        codegen.model = parent.codegen?.model
        codegen.answer = parent.codegen?.answer
        codegen.family = parent.codegen?.family
        job.codegen = codegen
        let to = try artifacts(job.id)
        var scenes: [PlannedScene] = []
        for s in plan.scenes {
            // The code is what carries over; how the parent's renders went does not.
            var copy = PlannedScene(n: s.n, title: s.title, goal: s.goal, narration: s.narration, version: s.version,
                                    code: "artifacts/\(job.id)/\(Lesson.codeFile(s.n))", sceneClass: s.sceneClass)
            if s.n == n { copy.status = .generating_code; copy.edit = words }
            try to.write(from.tail(Lesson.codeFile(s.n), limit: 1 << 20), as: Lesson.codeFile(s.n))
            // A scene video kept for edits (MATHREEL_SCENE_KEEP_S) is this code's, in these options: not rendered again.
            let video = Lesson.videoFile(s.n, parent.options.format)
            if s.n != n, s.status == .ready, !s.slate, let frames = s.durationFrames, (from.size(video) ?? 0) > 0 {
                try to.write(from.tail(video, limit: 64 << 20), as: video)
                copy.status = .ready
                copy.durationFrames = frames
                copy.cacheHit = true
            }
            scenes.append(copy)
        }
        job.plan = LessonPlan(scenes: scenes)
        job.record(.queued, by: by, note: "version \(job.version) of \(parent.id): scene \(n) edited (\(words.prefix(200)))")
        return job
    }
}
