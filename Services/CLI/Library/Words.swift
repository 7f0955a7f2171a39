// Plain words for what the commands show: ages and sizes a person reads at a
// glance, what each spool directory means for a job, and finding a job's file
// (with its parsed JSON) wherever it is in the spool right now.
import Foundation
import MathreelCore
import MathreelSpool
import MathreelSystem

enum Words {
    /// 3s, 5m, 2h, 1d.
    static func age(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded(.down)))
        if s < 60 { return "\(s)s" }
        if s < 3_600 { return "\(s / 60)m" }
        if s < 86_400 { return "\(s / 3_600)h" }
        return "\(s / 86_400)d"
    }

    /// 512 B, 3.4 MB, 12.0 GB.
    static func bytes(_ n: Int64) -> String {
        if n < 1024 { return "\(n) B" }
        let units = ["KB", "MB", "GB", "TB", "PB"]
        var v = Double(n) / 1024
        var i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return String(format: "%.1f %@", v, units[i])
    }

    /// What it means for a job to sit in a place.
    static func meaning(_ place: Place) -> String {
        switch place {
        case .tmp: "being written"
        case .incoming: "waiting for ingest to accept it"
        case .codegen: "waiting for its Manim code to be written"
        case .render: "waiting to be rendered"
        case .deliver: "waiting to be stored and announced"
        case .ready: "ready: the link is waiting to be used"
        case .done: "done: the video was watched and deleted"
        case .failed: "failed"
        case .quarantine: "set aside: not a job"
        case .active(let q): "being worked on by \(q.stage?.rawValue ?? q.path)"
        case .deferred(let s): "waiting for another try by \(s.rawValue)"
        }
    }

    /// A lesson's scenes on one line: "1 ready, 2 rendering, 3 replaced by its slate".
    static func scenes(_ job: Job) -> String? {
        guard let plan = job.plan else { return nil }
        return plan.scenes.map { s in
            "\(s.n) " + (s.slate ? "replaced by its slate" : s.status.rawValue.replacingOccurrences(of: "_", with: " "))
        }.joined(separator: ", ")
    }

    /// A lesson's scenes, a line each, for `mathreel status`.
    static func sceneLines(_ job: Job) -> [String] {
        (job.plan?.scenes ?? []).map { s in
            var line = "    \(s.n). \(s.title.count > 48 ? String(s.title.prefix(48)) + "…" : s.title): " + s.status.rawValue
            if let start = s.startFrame, let end = s.endFrame { line += ", frames \(start) to \(end)" }
            if s.slate { line += ", replaced by its slate" }
            if let e = s.error { line += "\n       why: \(e.message.split(separator: "\n").first.map(String.init) ?? "") (\(e.code))" }
            return line
        }
    }
}

extension Spool {
    /// The reason beside a quarantined `<id>.json`, if the job was set aside.
    func quarantineReason(_ id: String) -> String? {
        let names = (try? list(.quarantine)) ?? []
        let base = id + ".json"
        guard let hit = names.first(where: { n in
            guard let s = n.string else { return false }
            return s == base || (s.hasPrefix(base + "-") && !s.hasSuffix(".reason"))
        }), let s = hit.string else { return nil }
        let reason = peek(.quarantine, FileName(s + ".reason")).map { String(decoding: $0, as: UTF8.self) }
        return reason ?? "it was set aside in \(path(.quarantine, s))"
    }

    /// The spool root as an absolute path, for paths a person will open.
    var absoluteRoot: String { PlainFile.absolute(root) }
}

/// Where a finished job can be watched: its link and the local video file.
struct Delivered {
    var url: String?
    var path: String?

    init(_ found: FoundJob, spool: Spool) {
        // A file that does not read as a job still shows what its records say.
        let o = found.object ?? [:]
        let delivery = found.job?.delivery ?? o["delivery"]?.objectValue.map(DeliveryRecord.init(json:))
        let render = found.job?.render ?? o["render"]?.objectValue.map(RenderRecord.init(json:))
        url = delivery?.url
        if let p = delivery?.path {
            path = p.hasPrefix("/") ? p : spool.absoluteRoot + "/" + p
        } else if let v = render?.video {
            path = v.hasPrefix("/") ? v : spool.absoluteRoot + "/" + v
        }
    }
}

/// The id a person typed: a UUID, forgiving a ".json" suffix and capitals.
func jobID(_ raw: String) throws -> String {
    var id = raw.trimmingCharacters(in: .whitespaces).lowercased()
    if id.hasSuffix(".json") { id = String(id.dropLast(5)) }
    if let slash = id.lastIndex(of: "/") { id = String(id[id.index(after: slash)...]) }
    guard JobID.isValid(id) else {
        throw failure(1, "'\(raw)' is not a job id. A job id is a UUID like 6ba7b810-9dad-41d1-80b4-00c04fd430c8, as `mathreel submit` printed it.")
    }
    return id
}
