// Speech, the narration track and the captions: the engines really speak in the real
// sandbox (no network), hostile WAV bytes are refused, a clip is placed to the sample,
// and captions keep the 2 × 42 rule and WebVTT's syntax whatever the text.
import Foundation
import MathreelCore
import MathreelSandbox
import MathreelSystem
import MathreelVoice
import Testing
import TestSupport

@Suite struct WaveTests {
    @Test func aWaveReadsBackAsWritten() throws {
        let w = Wave(rate: 22_050, samples: [0, 1, -1, .max, .min, 1234])
        #expect(Wave(bytes: w.bytes) == w)
        #expect(w.bytes.count == 44 + 12)
    }

    @Test(arguments: [
        ("empty", [UInt8]()),
        ("not RIFF", Array("RIFX0000WAVE".utf8)),
        ("a data size past the end", Wave(rate: 22_050, samples: [1, 2]).bytes.enumerated().map { $0.offset == 40 ? 0xff : $0.element }),
        ("stereo", Wave(rate: 22_050, samples: [1, 2]).bytes.enumerated().map { $0.offset == 22 ? 2 : $0.element }),
        ("8-bit", Wave(rate: 22_050, samples: [1, 2]).bytes.enumerated().map { $0.offset == 34 ? 8 : $0.element }),
        ("a rate of 1 Hz", Wave(rate: 8_000, samples: [1, 2]).bytes.enumerated().map { [24: 1, 25: 0][$0.offset] ?? $0.element }),
        ("a chunk size of 4 GB", Array("RIFF\0\0\0\0WAVEfmt ".utf8) + [0xff, 0xff, 0xff, 0xff]),
    ])
    func hostileBytesAreRefused(_ c: (String, [UInt8])) {
        #expect(Wave(bytes: c.1) == nil, "\(c.0)")
    }

    @Test func clipsArePlacedToTheSampleAndFaded() throws {
        let clip = Wave(rate: 8_000, samples: [Int16](repeating: 10_000, count: 800))
        let track = try #require(Wave.track([(at: 0.5, clip: clip), (at: 1.0, clip: clip)], seconds: 2, rate: 8_000))
        #expect(track.samples.count == 16_000)
        #expect(track.samples[3_999] == 0 && track.samples[4_000] == 0, "the fade starts at 0")
        #expect(track.samples[4_100] == 10_000 && track.samples[8_100] == 10_000)
        #expect(track.samples[4_799] == 0 && track.samples[5_000] == 0, "the fade ends at 0, then silence")
        // Two clips on one place add, and clip at the sample's range instead of wrapping.
        let loud = Wave(rate: 8_000, samples: [Int16](repeating: 30_000, count: 800))
        let sum = try #require(Wave.track([(at: 0, clip: loud), (at: 0, clip: loud)], seconds: 0.2, rate: 8_000))
        #expect(sum.samples[400] == .max)
        // A clip of another rate, or past the track's end, never traps.
        #expect(Wave.track([(at: 0, clip: Wave(rate: 16_000, samples: [1]))], seconds: 1, rate: 8_000) == nil)
        #expect(Wave.track([(at: 5, clip: clip)], seconds: 1, rate: 8_000)?.samples.allSatisfy { $0 == 0 } == true)
        #expect(Wave.track([(at: .nan, clip: clip)], seconds: 1, rate: 8_000) == nil)
    }
}

@Suite struct CaptionTests {
    @Test func timestampsAreWebVTTs() {
        #expect(Captions.timestamp(0) == "00:00:00.000")
        #expect(Captions.timestamp(3_723.0456) == "01:02:03.046")
        #expect(Captions.timestamp(-1) == "00:00:00.000")
    }

    @Test func aLongSentenceBecomesCuesOfTwoLinesOf42() {
        let sentence = String(repeating: "seventeen letters ", count: 12) + "Supercalifragilisticexpialidociouslyneverending."
        let cues = Captions.cues(sentence, start: 10, end: 20)
        #expect(cues.count > 1)
        for c in cues {
            let lines = c.text.split(separator: "\n")
            #expect(lines.count <= 2 && lines.allSatisfy { $0.count <= 42 }, "\(c.text)")
        }
        #expect(cues.first?.start == 10 && cues.last?.end == 20)
        for (a, b) in zip(cues, cues.dropFirst()) { #expect(a.end == b.start) }
        // Every word is there, in order.
        #expect(cues.map(\.text).joined(separator: " ").split(whereSeparator: \.isWhitespace).joined(separator: " ")
                    .hasPrefix(sentence.split(separator: " ").prefix(20).joined(separator: " ")))
    }

    @Test func cueTextCannotBreakTheFile() {
        let vtt = Captions.webVTT([Cue(start: 0, end: 1, text: "a --> b <c.x>&amp;\n\nWEBVTT"), Cue(start: 1, end: 2, text: "\u{0}\u{1b}")], kind: "captions")
        #expect(!vtt.dropFirst(10).contains("-->  ") && vtt.components(separatedBy: "-->").count == 3, "only the two timings hold -->")
        #expect(vtt.contains("a --&gt; b &lt;c.x&gt;&amp;amp;"))
        // A cue's text never holds an empty line (it would end the cue).
        let blocks = vtt.components(separatedBy: "\n\n")
        #expect(blocks.count == 3, "\(vtt)")
    }

    @Test func captionsComeFromTheRecordedTimes() {
        let scenes = [
            NarratedScene(title: "One", start: 0, end: 4, sentences: [("Hello.", 0, 1.2), ("Then this.", 1.0, 5)]),
            NarratedScene(title: "Two", start: 4, end: 6, sentences: [("Last.", 0.5, 1)]),
        ]
        let cues = Captions.captions(scenes)
        #expect(cues.map(\.start) == [0, 1.0, 4.5])
        // Cut where the next sentence starts, and at the scene's end.
        #expect(cues.map(\.end) == [1.0, 4, 5.5])
        let chapters = Captions.chapters(scenes)
        #expect(chapters.map(\.start) == [0, 4] && chapters.map(\.end) == [4, 6])
        let meta = Captions.ffmetadata([Cue(start: 0, end: 1.5, text: "a=b;c#d\\e")])
        #expect(meta.contains("START=0\nEND=1500\ntitle=a\\=b\\;c\\#d\\\\e\n"))
    }
}

@Suite struct SpeechSettingsTests {
    @Test func theChainAndTheVoiceAreRead() throws {
        let d = try SpeechSettings(environment: [:])
        #expect(d.chain == [.piper, .espeak])
        #expect(d.voices(language: "en", asked: nil).voices.map(\.description) == ["piper:en_US-joe-medium", "espeak:en-us"])
        let fr = d.voices(language: "fr-CA", asked: nil)
        #expect(fr.voices.map(\.description) == ["espeak:fr"] && fr.note == nil)
        let xx = d.voices(language: "tlh", asked: nil)
        #expect(xx.voices.map(\.description) == ["piper:en_US-joe-medium", "espeak:en-us"])
        #expect(xx.note?.contains("English") == true)
        // A job's voice first, then the defaults to fall back on.
        #expect(d.voices(language: "de", asked: "de").voices.map(\.description) == ["espeak:de"])
        #expect(d.voices(language: "en", asked: "en-gb").voices.map(\.description) == ["espeak:en-gb", "piper:en_US-joe-medium", "espeak:en-us"])
        let only = try SpeechSettings(environment: ["MATHREEL_TTS": "espeak-ng", "MATHREEL_VOICE": "espeak:en-gb-x-rp"])
        #expect(only.voices(language: "en", asked: nil).voices.map(\.description) == ["espeak:en-gb-x-rp", "espeak:en-us"])
    }

    @Test(arguments: [["MATHREEL_TTS": "piper,festival"], ["MATHREEL_VOICE": "nope:x"], ["MATHREEL_VOICE": "piper:../../etc/passwd"]])
    func aBadSettingNamesItsKey(_ env: [String: String]) {
        #expect { try SpeechSettings(environment: env) } throws: { "\($0)".hasPrefix(env.keys.first!) }
    }
}

/// The real engines, in the real sandbox.
@Suite(.serialized) struct SpeakerTests {
    @Test(arguments: [Voice(engine: .piper, name: "en_US-joe-medium", language: "en"), Voice(engine: .espeak, name: "es", language: "es")])
    func anEngineSpeaksAndTheCacheServesItAgain(_ voice: Voice) async throws {
        let state = TempDir()
        let speaker = Speaker(sandbox: Sandbox(python: manimPython), state: state.path)
        let said = ["The answer is four.", "Two plus two makes four, as we checked."]
        let first = try await speaker.speak(said, voice: voice).get()
        #expect(first.count == 2 && first.allSatisfy { !$0.cached })
        // The longer sentence takes longer, and neither starts or ends in silence.
        #expect(first[1].seconds > first[0].seconds && first[0].seconds > 0.5, "\(first.map(\.seconds))")
        for clip in first {
            let wave = try #require(Wave(bytes: try PlainFile.read(clip.path)))
            let lead = wave.samples.prefix(wave.rate / 20).map { abs(Int($0)) }.max() ?? 0
            #expect(lead > 655, "sound within its first 50 ms")
        }
        let again = try await speaker.speak(said, voice: voice).get()
        #expect(again.allSatisfy(\.cached) && again.map(\.seconds) == first.map(\.seconds))
    }

    @Test func aMissingVoiceFailsOverToTheNextEngine() async throws {
        let state = TempDir()
        let speaker = Speaker(sandbox: Sandbox(python: manimPython), state: state.path)
        let r = try await speaker.speak(["Hello there."], voices: [Voice(engine: .piper, name: "xx_XX-nobody-low", language: "en"),
                                                                  Voice(engine: .espeak, name: "en-us", language: "en")]).get()
        #expect(r.voice.engine == .espeak && r.tried.count == 1)
        #expect(r.tried[0].reason.contains("no Piper voice"), "\(r.tried)")
        let none = try await speaker.speak(["Hello."], voices: [Voice(engine: .espeak, name: "no-such-voice", language: "en")])
        guard case .failure(let f) = none else { Issue.record("a voice espeak-ng lacks spoke"); return }
        #expect(f.all.count == 1)
    }
}
