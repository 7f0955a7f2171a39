// The file side of the real `mathreel-ingest`: what a person drops into incoming/
// is routed (problems to codegen/, code to render/) or set aside in quarantine/
// with a reason a person can act on, and nothing they drop stops the daemon.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// One thing a person might drop, and the words its "Why:" line must hold.
struct Bad {
    let name: [UInt8]
    /// How the reason file names it ("incoming/" + the name, escaped).
    let arrivedAs: String
    let why: [String]
    var expectedKind: mode_t = S_IFREG
}

@Suite(.timeLimit(.minutes(1))) struct FileIngestTests {
    @Test func everyBadInputIsQuarantinedWithItsReasonAndTheDaemonKeepsRunning() async throws {
        let d = try IngestDaemon()
        try await d.start()
        let valid = "Solve x^2 - 5x + 6 = 0"
        var bad: [Bad] = []
        func expectBad(_ name: String, _ why: String..., kind: mode_t = S_IFREG) {
            bad.append(Bad(name: Array(name.utf8), arrivedAs: "incoming/" + name, why: why, expectedKind: kind))
        }

        // Content that is not a job, dropped both ways a person would.
        try d.write([], as: Array("empty.json".utf8))
        expectBad("empty.json", "the file is empty")
        try d.drop([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0xFF, 0xFE, 0x00, 0x13, 0x89, 0xC3] + Array(repeating: 0x90, count: 500),
                   as: Array("junk.bin".utf8))
        expectBad("junk.bin", "the file is not UTF-8 text")
        try d.write(Array(#"{"problem": "Caf"#.utf8) + [0xE9] + Array(#" costs 5 x + 3, find x"}"#.utf8), as: Array("latin1.json".utf8))
        expectBad("latin1.json", "the file is not UTF-8 text")
        try d.drop(#"["Solve x^2 - 5x + 6 = 0"]"#, as: "list.json")
        expectBad("list.json", "the file holds a list, not a JSON object")
        try d.write("42", as: "number.json")
        expectBad("number.json", "the file holds a number, not a JSON object")
        try d.drop(#"{"problem": 42, "options": "high", "origin": {"chat_id": {"x": 1}}}"#, as: "types.json")
        expectBad("types.json", "`problem` must be text; got a number", "`options` must be an object", "`origin.chat_id` must be text; got an object")
        try d.drop(#"{"problem": "{not json"#, as: "truncated.json")
        expectBad("truncated.json", "the file is not valid JSON")
        try d.drop(problemFile("Solve x=1"), as: Array("short.json".utf8))
        expectBad("short.json", "`problem` is too short (9 characters)")
        try d.drop(problemFile(String(repeating: "ש", count: 5_001)), as: Array("long.json".utf8))
        expectBad("long.json", "`problem` is too long (5001 characters); at most 5000 are accepted")
        try d.write(codeFile(String(repeating: "# a comment line to make the file large\n", count: 1_400)), as: Array("bigcode.json".utf8))
        expectBad("bigcode.json", "`code` is too large", "at most 50 KB")
        try d.drop(#"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"speed": 2}}"#, as: "options.json")
        expectBad("options.json", "`options.speed` is not an option; the options are quality, format, max_duration_s")
        try d.drop(#"{"problem": "Solve x^2 - 5x + 6 = 0", "options": {"quality": "ultra"}}"#, as: "ultra.json")
        expectBad("ultra.json", "`options.quality` must be one of low, medium, high; got 'ultra'")

        // 100 MB, sparse, made in tmp/ and renamed in: refused unread as too large.
        let huge = d.path(.tmp, "huge.part")
        let hfd = withCPath(huge) { open($0, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644) }
        #expect(hfd >= 0)
        #expect(ftruncate(hfd, 100 << 20) == 0)
        close(hfd)
        let readBefore = try #require(d.bytesRead())
        try check(cRename(huge, d.path(.incoming, "huge.json")), "rename huge")
        expectBad("huge.json", "it is too large (104857600 bytes); a job file is at most 1024 KB")

        // Entries that are not regular files, made in place.
        var shadowBefore = stat()
        let haveShadow = stat("/etc/shadow", &shadowBefore) == 0
        try check(withCPath(d.path(.incoming, "shadow.json")) { symlink("/etc/shadow", $0) }, "symlink")
        expectBad("shadow.json", "symbolic link", kind: S_IFLNK)
        try check(withCPath(d.path(.incoming, "pipe.json")) { mkfifo($0, 0o644) }, "mkfifo")
        expectBad("pipe.json", "a named pipe (FIFO)", kind: S_IFIFO)
        try check(withCPath(d.path(.incoming, "folder.json")) { mkdir($0, 0o755) }, "mkdir")
        expectBad("folder.json", "a directory", kind: S_IFDIR)
        try check(withCPath(d.path(.tmp, "full-folder.part")) { mkdir($0, 0o755) }, "mkdir")
        try writeFile(d.path(.tmp, "full-folder.part") + Array("/inner.json".utf8), problemFile(valid))
        try check(cRename(d.path(.tmp, "full-folder.part"), d.path(.incoming, "full-folder.json")), "rename folder")
        expectBad("full-folder.json", "a directory", kind: S_IFDIR)

        // A hard link to a (valid) job file outside incoming/, linked in tmp/ and moved in.
        let outside = Array((d.dir.path + "/outside.json").utf8)
        let outsideBytes = problemFile("Hard-linked: solve 2x + 3 = 7")
        try writeFile(outside, outsideBytes)
        try check(withCPath(outside) { o in withCPath(d.path(.tmp, "hard.part")) { link(o, $0) } }, "link")
        try check(cRename(d.path(.tmp, "hard.part"), d.path(.incoming, "hard.json")), "rename hard link")
        expectBad("hard.json", "hard link")

        // Odd names: invalid content is set aside under its escaped name; valid content is routed.
        try d.drop(problemFile("too short"), as: Array("bad job.json".utf8))
        expectBad("bad job.json", "`problem` is too short (9 characters)")
        try d.drop(problemFile("too short"), as: Array("bad\njob.json".utf8))
        bad.append(Bad(name: Array("bad\njob.json".utf8), arrivedAs: #"incoming/bad\njob.json"#, why: ["`problem` is too short"]))
        try d.drop(problemFile("too short"), as: [0xFF, 0xFE] + Array(".json".utf8))
        bad.append(Bad(name: [0xFF, 0xFE] + Array(".json".utf8), arrivedAs: #"incoming/\xff\xfe.json"#, why: ["`problem` is too short"]))

        let oddValid: [(name: [UInt8], shown: String, problem: String)] = [
            (Array("my job.json".utf8), "my job.json", "Odd name one: solve x + 1 = 2"),
            (Array("my\njob.json".utf8), #"my\njob.json"#, "Odd name two: solve x + 2 = 3"),
            ([0xFF, 0xFE] + Array("-ok.json".utf8), #"\xff\xfe-ok.json"#, "Odd name three: solve x + 3 = 4"),
        ]
        for odd in oddValid { try d.drop(problemFile(odd.problem), as: odd.name) }

        // After all of that, a good job still goes through at once.
        let goodProblem = "After the bad ones: solve x^2 - 5x + 6 = 0"
        try d.drop(problemFile(goodProblem), as: Array("good.json".utf8))
        let routed = await waitUntil(timeout: 2) { d.job(in: .codegen, problem: goodProblem) != nil }
        #expect(routed, "a good job dropped after the bad ones reached codegen/ within 2 s")

        // A reason is published before its entry is renamed in (a crash between leaves a
        // reason alone, never a file without one): wait for both.
        let all = await waitUntil(timeout: 10) {
            let r = d.reasons()
            return bad.allSatisfy { b in r[b.arrivedAs].map { lstatKind(d.path(.quarantine, $0.entry)) != nil } ?? false }
        }
        let reasons = d.reasons()
        #expect(all, "all bad inputs quarantined; missing: \(Set(bad.map(\.arrivedAs)).subtracting(reasons.keys).sorted())")
        for b in bad {
            guard let r = reasons[b.arrivedAs] else { continue }
            for words in b.why { #expect(r.why.contains(words), "\(b.arrivedAs): expected «\(words)» in Why: «\(r.why)»") }
            #expect(r.text.contains("What to do:"), "the reason says what to do")
            #expect(!exists(d.path(.incoming, b.name)), "\(b.arrivedAs) left incoming/")
            // The entry itself is beside its reason, of the kind it arrived as.
            #expect(lstatKind(d.path(.quarantine, r.entry)) == b.expectedKind, "\(b.arrivedAs) kept as what it was in quarantine/\(r.entry)")
            #expect(r.entry.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "the quarantined name is shell-safe: \(r.entry)")
        }
        #expect(reasons.count == bad.count, "nothing else was quarantined: \(reasons.keys.sorted())")

        // The symlink is still a link to /etc/shadow, which nobody touched.
        if let r = reasons["incoming/shadow.json"] {
            var buf = [CChar](repeating: 0, count: 256)
            let n = withCPath(d.path(.quarantine, r.entry)) { readlink($0, &buf, 255) }
            #expect(n > 0 && String(cString: Array(buf[0..<max(n, 0)]) + [0]) == "/etc/shadow")
        }
        if haveShadow {
            var after = stat()
            #expect(stat("/etc/shadow", &after) == 0)
            #expect(after.st_ino == shadowBefore.st_ino && after.st_size == shadowBefore.st_size
                    && after.st_mtim.tv_sec == shadowBefore.st_mtim.tv_sec && after.st_ctim.tv_sec == shadowBefore.st_ctim.tv_sec
                    && after.st_mode == shadowBefore.st_mode, "/etc/shadow untouched")
        }
        // The 100 MB file was refused without being read.
        if let readAfter = d.bytesRead() {
            #expect(readAfter - readBefore < 10 << 20, "the daemon read \(readAfter - readBefore) bytes; the 100 MB file must stay unread")
        }
        if let r = reasons["incoming/huge.json"] {
            var st = stat()
            #expect(withCPath(d.path(.quarantine, r.entry)) { stat($0, &st) } == 0 && st.st_size == 100 << 20)
        }
        // The hard-linked file outside is intact.
        #expect(try Data(contentsOf: URL(fileURLWithPath: String(decoding: outside, as: UTF8.self))) == Data(outsideBytes))

        // Valid jobs with odd names were routed, their history naming the original name escaped.
        for odd in oddValid {
            let job = d.job(in: .codegen, problem: odd.problem)
            #expect(job != nil, "\(odd.shown) routed to codegen/")
            let note = job?.history.last?.note ?? ""
            #expect(note.contains("'\(odd.shown)'"), "history names \(odd.shown): «\(note)»")
            #expect(!exists(d.path(.incoming, odd.name)))
        }
        #expect(d.names(.incoming).isEmpty, "incoming/ is empty: \(d.names(.incoming))")
        #expect(d.names(.active(.incoming)).isEmpty, "nothing left claimed")

        #expect(d.isRunning, "the daemon is still running after every bad input")
        #expect(await d.stop() == .exited(0))
    }

    @Test func aHardLinkMadeInPlaceIsQuarantined() async throws {
        let d = try IngestDaemon()
        try await d.start()
        let outside = Array((d.dir.path + "/outside.json").utf8)
        try writeFile(outside, problemFile("Solve x^2 - 5x + 6 = 0"))
        // `ln outside incoming/linked.json`: no close, no move; only IN_CREATE of a regular file.
        try check(withCPath(outside) { o in withCPath(d.path(.incoming, "linked.json")) { link(o, $0) } }, "link")
        let quarantined = await waitUntil(timeout: 3) { d.reasons()["incoming/linked.json"] != nil }
        #expect(quarantined, "a hard link made in place is set aside at once, not left in incoming/ until the 60 s rescan")
        if let r = d.reasons()["incoming/linked.json"] { #expect(r.why.contains("hard link")) }
        #expect(d.jobs(.codegen).isEmpty, "a hard link is never taken as a job")
        #expect(await d.stop() == .exited(0))
    }

    @Test func validJobsAreRoutedByKind() async throws {
        let d = try IngestDaemon()
        // A job whose id is already used by a finished job.
        let usedID = JobID.make()
        var finished = Job(id: usedID, kind: .problem, problem: "An old finished problem text", origin: JobOrigin(channel: .web), status: .delivered)
        finished.next = "done"
        try d.spool.publish(finished.encoded(), as: usedID + ".json", to: .done)
        try await d.start()

        let problem = "Solve x^2 - 5x + 6 = 0"
        try d.drop(problemFile(problem, extra: ["x_note": .string("kept")]), as: Array("problem.json".utf8))
        try d.write(codeFile(sampleCode), as: Array("code.json".utf8))
        let keptID = JobID.make()
        let keptProblem = "Named by its id: solve 3x = 12"
        try d.drop(problemFile(keptProblem), as: Array((keptID + ".json").utf8))
        let reusedProblem = "Reusing a done id: solve 4x = 8"
        try d.drop(problemFile(reusedProblem), as: Array((usedID + ".json").utf8))

        #expect(await waitUntil(timeout: 5) { d.jobs(.codegen).count == 3 && d.jobs(.render).count == 1 },
                "codegen/ \(d.names(.codegen)), render/ \(d.names(.render)), quarantine/ \(d.names(.quarantine))")

        let job = try #require(d.job(in: .codegen, problem: problem))
        #expect(d.names(.codegen).contains(FileName(job.id + ".json")), "codegen/<id>.json")
        #expect(JobID.isValid(job.id))
        #expect(job.kind == .problem)
        #expect(job.status == .queued)
        #expect(job.progress == 5)
        #expect(job.origin.channel == .file)
        #expect(job.next == "codegen")
        #expect(job.options == JobOptions(quality: .low, format: .mp4, maxDurationS: 180))
        #expect(job.extra["x_note"] == .string("kept"))
        let entry = try #require(job.history.last)
        #expect(entry.by == "ingest")
        #expect(entry.status == "queued")
        #expect(entry.note?.contains("'problem.json'") == true, "history names the file: \(entry.note ?? "nil")")
        #expect(entry.note?.contains("accepted from file") == true)
        #expect(job.createdDate.map { abs($0.timeIntervalSinceNow) < 60 } == true)

        let code = try #require(d.jobs(.render).first)
        #expect(code.kind == .code)
        #expect(code.code == sampleCode)
        #expect(code.next == "render")
        #expect(code.status == .queued)
        #expect(d.names(.render) == [FileName(code.id + ".json")])
        #expect(code.history.last?.note?.contains("'code.json'") == true)

        let kept = try #require(d.job(in: .codegen, problem: keptProblem))
        #expect(kept.id == keptID, "a file named <uuid>.json keeps its uuid")
        #expect(d.names(.codegen).contains(FileName(keptID + ".json")))

        let reused = try #require(d.job(in: .codegen, problem: reusedProblem))
        #expect(reused.id != usedID, "an id already in done/ is not used twice")
        #expect(JobID.isValid(reused.id))
        #expect(d.job(in: .done, id: usedID)?.problem == "An old finished problem text", "the finished job is untouched")
        #expect(d.names(.codegen).contains(FileName(reused.id + ".json")))
        #expect(reused.history.last?.note?.contains("already in done/") == true, "\(reused.history.last?.note ?? "nil")")

        #expect(d.names(.incoming).isEmpty)
        #expect(d.names(.quarantine).isEmpty)
        #expect(d.names(.active(.incoming)).isEmpty)
        #expect(await d.stop() == .exited(0))
    }

    @Test func withDirectCodeOffACodeJobFailsWithCodeRejected() async throws {
        let d = try IngestDaemon()
        try await d.start(environment: ["MATHREEL_DIRECT_CODE": "off"])
        try d.drop(codeFile(sampleCode), as: Array("mine.json".utf8))
        let problem = "Still accepted: solve x^2 = 9"
        try d.drop(problemFile(problem), as: Array("problem.json".utf8))
        #expect(await waitUntil(timeout: 5) { !d.jobs(.failed).isEmpty && d.job(in: .codegen, problem: problem) != nil })
        let job = try #require(d.jobs(.failed).first)
        #expect(job.kind == .code)
        #expect(job.status == .failed)
        #expect(job.error?.code == "code_rejected")
        #expect(job.error?.stage == "ingest")
        let message = job.error?.message ?? ""
        #expect(message.contains("MATHREEL_DIRECT_CODE=off"))
        #expect(message.contains("Send the math problem as text instead"), "the message says how to proceed: \(message)")
        #expect(d.names(.render).isEmpty, "nothing reaches render/")
        #expect(d.names(.failed) == [FileName(job.id + ".json")])
        #expect(await d.stop() == .exited(0))
    }

    @Test func aFileStillBeingWrittenIsTakenOnceClosed() async throws {
        let d = try IngestDaemon()
        try await d.start()
        let problem = "Written slowly: solve x^2 - 5x + 6 = 0"
        let bytes = problemFile(problem)
        let half = bytes.count / 2
        let fd = try openForWriting(d.path(.incoming, "slow.json"))
        var closed = false
        defer { if !closed { close(fd) } }
        try writeAll(fd, Array(bytes[..<half]))
        try await Task.sleep(for: .seconds(3))  // longer than the 2 s settle
        let stillThere = exists(d.path(.incoming, "slow.json"))
        #expect(stillThere, "a file open for writing stays in incoming/")
        #expect(d.names(.quarantine).isEmpty, "a half-written file is not quarantined: \(d.names(.quarantine))")
        try writeAll(fd, Array(bytes[half...]))
        close(fd)
        closed = true
        #expect(await waitUntil(timeout: 2) { d.job(in: .codegen, problem: problem) != nil }, "taken once closed")
        #expect(d.names(.quarantine).isEmpty)
        #expect(await d.stop() == .exited(0))
    }

    @Test func theStartUpScanTakesOldFilesAndLeavesOnesBeingWritten() async throws {
        let d = try IngestDaemon()
        // Complete and older than the settle time: routed by the start-up scan.
        let oldProblem = "Already there: solve x^2 - 5x + 6 = 0"
        try d.write(problemFile(oldProblem), as: Array("old.json".utf8))
        try age(d.path(.incoming, "old.json"), by: 30)
        // Young and still open, its writer adding a little at a time (JSON allows the spaces).
        let youngProblem = "Being written: solve 2x + 3 = 7"
        let full = problemFile(youngProblem)
        let body = Array(full[..<(full.lastIndex(of: UInt8(ascii: "}"))!)])
        let fd = try openForWriting(d.path(.incoming, "young.json"))
        var closed = false
        defer { if !closed { close(fd) } }
        try writeAll(fd, Array(body[..<(body.count / 2)]))

        try await d.start()
        #expect(await waitUntil(timeout: 2) { d.job(in: .codegen, problem: oldProblem) != nil }, "the start-up scan routed old.json")
        #expect(exists(d.path(.incoming, "young.json")), "young.json, still being written, was not taken at start")
        // The writer goes on past the 2 s settle rescan.
        try writeAll(fd, Array(body[(body.count / 2)...]))
        for _ in 0..<6 {
            try await Task.sleep(for: .milliseconds(500))
            try writeAll(fd, Array(" ".utf8))
        }
        #expect(exists(d.path(.incoming, "young.json")), "still not taken while its writer writes")
        #expect(d.names(.quarantine).isEmpty, "nothing quarantined: \(d.names(.quarantine))")
        try writeAll(fd, Array("}\n".utf8))
        close(fd)
        closed = true
        #expect(await waitUntil(timeout: 2) { d.job(in: .codegen, problem: youngProblem) != nil }, "routed once completed and closed")
        #expect(d.names(.quarantine).isEmpty)
        #expect(d.names(.incoming).isEmpty)
        #expect(await d.stop() == .exited(0))
    }

    @Test func aFileOpenAtStartWhoseWriterPausesIsNotTaken() async throws {
        let d = try IngestDaemon()
        let problem = "Paused writer: solve 5x = 25"
        let bytes = problemFile(problem)
        let fd = try openForWriting(d.path(.incoming, "paused.json"))
        var closed = false
        defer { if !closed { close(fd) } }
        try writeAll(fd, Array(bytes[..<(bytes.count / 2)]))
        try await d.start()
        try await Task.sleep(for: .seconds(3))  // the writer pauses longer than the settle time
        let stillThere = exists(d.path(.incoming, "paused.json"))
        #expect(stillThere, "a file still open for writing is left in incoming/")
        let quarantine = d.names(.quarantine)
        #expect(quarantine.isEmpty, "and not quarantined half-written: \(quarantine)")
        try writeAll(fd, Array(bytes[(bytes.count / 2)...]))
        close(fd)
        closed = true
        #expect(await waitUntil(timeout: 5) { d.jobs(.codegen).count == 1 }, "once closed, it is routed")
        #expect(await d.stop() == .exited(0))
    }

    @Test func sigtermStopsTheDaemonWithStatusZeroWithin10Seconds() async throws {
        let d = try IngestDaemon()
        try await d.start()
        let problem = "Before the stop: solve x + 1 = 2"
        try d.drop(problemFile(problem), as: Array("before-stop.json".utf8))
        #expect(await waitUntil(timeout: 2) { d.job(in: .codegen, problem: problem) != nil })
        let started = Date()
        let end = await d.stop(timeout: 10)
        #expect(end == .exited(0), "exited 0 on SIGTERM (got \(end.map(\.description) ?? "still running"))")
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(d.names(.active(.incoming)).isEmpty, "nothing left claimed")
    }
}
