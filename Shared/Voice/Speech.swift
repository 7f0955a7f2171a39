// Speech: a lesson's narration spoken before its scenes render (SPEC §9). The engines
// form a chain like the code writers (MATHREEL_TTS, default `piper,espeak`): one voice
// speaks a whole lesson, and when an engine fails every sentence goes to the next, so a
// lesson never changes voice mid-way. Each engine runs speak.py in the render sandbox
// (no network, nothing of the state visible); the clips come back through descriptors
// and are read as untrusted WAV. A sentence's clip is cached by its engine, voice and
// text in <state>/speech-cache/ (not swept yet: nothing but the doctor speaks so far,
// and the doctor's probe bypasses the cache).
import MathreelCore
import MathreelDaemon
import MathreelSandbox
import MathreelSystem
#if canImport(Glibc)
import Glibc
#endif

public enum SpeechEngine: String, Sendable, CaseIterable {
    /// Piper: a neural voice in ONNX, from the voice packages the Makefile installs.
    case piper
    /// espeak-ng: a formant voice from Debian, in about a hundred languages; always there.
    case espeak

    /// The voice for a language (its primary subtag), when this engine ships one.
    func voice(for language: String) -> String? {
        switch self {
        case .piper: ["en": "en_US-joe-medium"][language]
        case .espeak: ["en": "en-us", "es": "es", "fr": "fr", "de": "de", "pt": "pt-br", "it": "it"][language]
        }
    }

    /// An engine by its name in MATHREEL_TTS or MATHREEL_VOICE (`espeak-ng` is espeak).
    init?(named name: String) { self.init(rawValue: name == "espeak-ng" ? "espeak" : name) }

    /// Whether a voice name is this engine's kind: Piper's are `xx_YY-name-quality`.
    func owns(_ voice: String) -> Bool {
        let piper = voice.split(separator: "-").count >= 3 && voice.contains("_")
        return self == .piper ? piper : !piper
    }
}

/// One voice of one engine.
public struct Voice: Sendable, Equatable, CustomStringConvertible {
    public var engine: SpeechEngine
    public var name: String
    /// The language it speaks (a primary subtag: `en`).
    public var language: String
    public init(engine: SpeechEngine, name: String, language: String) { self.engine = engine; self.name = name; self.language = language }
    public var description: String { "\(engine.rawValue):\(name)" }
}

/// MATHREEL_TTS and MATHREEL_VOICE, read once.
public struct SpeechSettings: Sendable {
    public var chain: [SpeechEngine]
    /// The operator's voice (MATHREEL_VOICE: `engine:voice`, or a voice of the chain's first engine).
    public var voice: Voice?

    public init(environment env: [String: String]) throws(ConfigError) {
        let raw = (env["MATHREEL_TTS"] ?? "").trimmed()
        var chain: [SpeechEngine] = []
        for part in (raw.isEmpty ? "piper,espeak" : raw).split(separator: ",") {
            let name = String(part).trimmed().lowercased()
            guard let e = SpeechEngine(named: name) else {
                throw ConfigError(description: "MATHREEL_TTS: \(String(reflecting: name)) is not a speech engine; use a comma-separated list of \(SpeechEngine.allCases.map(\.rawValue).joined(separator: ", ")) (default piper,espeak)")
            }
            if !chain.contains(e) { chain.append(e) }
        }
        self.chain = chain
        if let v = env["MATHREEL_VOICE"]?.trimmed(), !v.isEmpty {
            let parts = v.split(separator: ":", maxSplits: 1).map(String.init)
            let engine = parts.count == 2 ? SpeechEngine(named: parts[0]) : chain[0]
            let name = parts.last ?? v
            guard let engine, Lesson.isVoiceName(name) else {
                throw ConfigError(description: "MATHREEL_VOICE: \(String(reflecting: v)) must be `engine:voice` (piper:en_US-joe-medium, espeak:fr) or a voice of the first engine of MATHREEL_TTS")
            }
            voice = Voice(engine: engine, name: name, language: "")
        }
    }

    /// The primary subtag of a language tag, lowercased (`pt-BR` → `pt`).
    public static func primary(_ language: String) -> String {
        String(language.split(separator: "-").first ?? "en").lowercased()
    }

    /// The voices to try for a lesson, best first, and a note when the language asked for is
    /// not spoken (then the voices are English). A job's own voice comes first, then the
    /// operator's, then each engine's voice for the language.
    public func voices(language: String, asked: String?) -> (voices: [Voice], note: String?) {
        var lang = SpeechSettings.primary(language), note: String?
        if !chain.contains(where: { $0.voice(for: lang) != nil }) {
            note = "Narration is in English: no installed voice speaks \(String(reflecting: language))."
            lang = "en"
        }
        var out: [Voice] = []
        func add(_ v: Voice) { if chain.contains(v.engine), !out.contains(v) { out.append(v) } }
        if let asked, let engine = chain.first(where: { $0.owns(asked) }) { add(Voice(engine: engine, name: asked, language: lang)) }
        // The operator's voice speaks English lessons, and those of its own language (`fr`, `de_DE-...`).
        if let voice, lang == "en" || SpeechSettings.primary(voice.name.replacing("_", with: "-")) == lang {
            add(Voice(engine: voice.engine, name: voice.name, language: lang))
        }
        for e in chain { if let name = e.voice(for: lang) { add(Voice(engine: e, name: name, language: lang)) } }
        return (out, note)
    }
}

/// One spoken sentence: its clip in the speech cache, and how long it lasts.
public struct Clip: Sendable {
    public var path: String
    public var seconds: Double
    public var cached: Bool
}

/// A lesson's sentences as one voice spoke them.
public struct Spoken: Sendable {
    public var voice: Voice
    public var clips: [Clip]
    /// The voices that failed before it.
    public var tried: [SpeechFailure]
}

/// Why a voice could not speak a lesson.
public struct SpeechFailure: Error, Sendable, CustomStringConvertible {
    public var voice: Voice
    public var reason: String
    public var description: String { "\(voice): \(reason)" }
}

public struct Speaker: Sendable {
    public let sandbox: Sandbox
    /// `<state>/speech-cache`.
    public let cache: String
    /// Sentences spoken by one sandbox (each its own descriptor).
    static let batch = 48
    public static let script = String(decoding: PackageResources.speak_py, as: UTF8.self)

    public init(sandbox: Sandbox, state: String) {
        self.sandbox = sandbox
        cache = PlainFile.absolute(state) + "/speech-cache"
    }

    /// A sentence's entry: its engine, voice and text, hashed.
    public static func key(_ voice: Voice, _ text: String) -> String {
        SHA256.hex(Array("mathreel-speech-1\n\(voice.engine.rawValue)\n\(voice.name)\n\(text)".utf8))
    }

    /// Every sentence spoken by `voice`, in order: from the cache, the rest in the sandbox.
    public func speak(_ sentences: [String], voice: Voice) async throws -> Result<[Clip], SpeechFailure> {
        guard PlainDirectory.makeIfMissing(cache) else { throw FileError("create \(cache)") }
        var clips = [Clip?](repeating: nil, count: sentences.count)
        var missing: [Int] = []
        for (i, s) in sentences.enumerated() {
            let path = cache + "/" + Speaker.key(voice, s) + ".wav"
            if let bytes = try? PlainFile.read(path), let wave = Wave(bytes: bytes), wave.seconds > 0 {
                clips[i] = Clip(path: path, seconds: wave.seconds, cached: true)
                _ = PlainFile.touch(path)
            } else {
                missing.append(i)
            }
        }
        for start in stride(from: 0, to: missing.count, by: Speaker.batch) {
            let part = Array(missing[start..<min(missing.count, start + Speaker.batch)])
            switch try await run(part.map { sentences[$0] }, voice: voice) {
            case .failure(let f): return .failure(f)
            case .success(let waves):
                for (i, wave) in zip(part, waves) {
                    let path = cache + "/" + Speaker.key(voice, sentences[i]) + ".wav"
                    try store(wave.bytes, at: path)
                    clips[i] = Clip(path: path, seconds: wave.seconds, cached: false)
                }
            }
        }
        return .success(clips.compactMap { $0 })
    }

    /// The first voice of `voices` that speaks every sentence, and why those before it did not.
    public func speak(_ sentences: [String], voices: [Voice]) async throws -> Result<Spoken, SpeechFailures> {
        var tried: [SpeechFailure] = []
        for v in voices {
            switch try await speak(sentences, voice: v) {
            case .success(let clips): return .success(Spoken(voice: v, clips: clips, tried: tried))
            case .failure(let f): tried.append(f)
            }
        }
        return .failure(SpeechFailures(all: tried))
    }

    /// How long `voice` takes to say one short sentence, uncached (the doctor's check): the
    /// speech's seconds and the wall seconds spent.
    public func probe(_ voice: Voice) async throws -> Result<(speech: Double, wall: Double), SpeechFailure> {
        let started = ContinuousClock.now
        return try await run(["Two plus two makes four."], voice: voice).map { waves in
            (waves.reduce(0) { $0 + $1.seconds }, (ContinuousClock.now - started).seconds)
        }
    }

    /// One sandbox of speak.py for these sentences: their clips, checked.
    func run(_ sentences: [String], voice: Voice) async throws -> Result<[Wave], SpeechFailure> {
        let files = try sentences.map { _ in try sandbox.outputFile() }
        let request: JSONObject = ["engine": .string(voice.engine.rawValue), "voice": .string(voice.name),
                                   "sentences": .array(sentences.map(JSONValue.string))]
        let input = JSONValue.object(request).serialized(pretty: false) + [0x0a]
        let (end, timedOut, log) = try await sandbox.execute([sandbox.python, "-I", "-B", "-c", Speaker.script], files: files,
                                                             input: input, wallSeconds: 60 + 10 * Double(sentences.count))
        func fail(_ why: String) -> Result<[Wave], SpeechFailure> { .failure(SpeechFailure(voice: voice, reason: why)) }
        if timedOut { return fail("it took too long") }
        guard let reply = Sandbox.report(in: log) else { return fail("it ended (\(end)) without a reply: \(log.suffix(300))") }
        guard reply["ok"] == .bool(true) else {
            return fail("\(reply["error"]?.stringValue ?? "error"): \(reply["message"]?.stringValue?.prefix(300) ?? "")")
        }
        var waves: [Wave] = []
        for (i, f) in files.enumerated() {
            guard f.size <= 8 << 20, let wave = Wave(bytes: f.read(limit: 8 << 20)), wave.seconds > 0.05 else {
                return fail("sentence \(i + 1)'s audio is not a readable mono 16-bit WAV")
            }
            if let rate = waves.first?.rate, wave.rate != rate { return fail("its sentences came at different sample rates") }
            waves.append(wave)
        }
        return .success(waves)
    }

    /// Written under a temporary name, then renamed: a reader never sees half a clip.
    func store(_ bytes: [UInt8], at path: String) throws {
        let partial = path + ".\(getpid()).partial"
        _ = PlainFile.remove(partial)
        try PlainFile.write(bytes, to: partial, exclusive: true)
        guard rename(partial, path) == 0 else { _ = PlainFile.remove(partial); throw FileError("store \(path)") }
    }
}

public struct SpeechFailures: Error, Sendable, CustomStringConvertible {
    public var all: [SpeechFailure]
    public var description: String { all.isEmpty ? "no voice to try" : all.map(\.description).joined(separator: "; ") }
}
