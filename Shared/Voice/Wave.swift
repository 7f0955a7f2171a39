// Wave: the one audio format mathreel handles itself, 16-bit mono PCM WAV. speak.py
// writes it (inside the sandbox, so it is read as untrusted: every size checked), the
// speech cache keeps it, and a lesson's narration track is laid out in it sample by
// sample, so each sentence starts exactly where its render said it began.

/// 16-bit mono PCM audio.
public struct Wave: Sendable, Equatable {
    public var rate: Int
    public var samples: [Int16]
    public init(rate: Int, samples: [Int16]) { self.rate = rate; self.samples = samples }

    public var seconds: Double { rate > 0 ? Double(samples.count) / Double(rate) : 0 }

    /// The rates a speech engine may use (piper's and espeak-ng's are 16000 and 22050).
    static let rates = 8_000...48_000
    /// Longer than any sentence is spoken (speak.py refuses more than 600 characters).
    static let maxSeconds = 120

    /// Reads a RIFF/WAVE file of 16-bit mono PCM; nil for anything else, or one too long.
    public init?(bytes: [UInt8]) {
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else { return nil }
        var at = 12, rate: Int?, data: Range<Int>?
        while at + 8 <= bytes.count {
            let size = u32(at + 4), body = at + 8
            // Sizes come from the file: never past its end, never an overflow.
            guard size <= bytes.count - body else { return nil }
            if bytes[at..<at + 4].elementsEqual("fmt ".utf8) {
                guard size >= 16, u16(body) == 1, u16(body + 2) == 1, u16(body + 14) == 16 else { return nil }
                rate = u32(body + 4)
            } else if bytes[at..<at + 4].elementsEqual("data".utf8) {
                data = body..<(body + size)
            }
            at = body + size + (size & 1)
        }
        guard let rate, Wave.rates.contains(rate), let data, data.count.isMultiple(of: 2),
              data.count / 2 <= rate * Wave.maxSeconds else { return nil }
        var samples = [Int16](repeating: 0, count: data.count / 2)
        for i in samples.indices {
            samples[i] = Int16(bitPattern: UInt16(bytes[data.lowerBound + 2 * i]) | UInt16(bytes[data.lowerBound + 2 * i + 1]) << 8)
        }
        self.init(rate: rate, samples: samples)
    }

    /// The file: a 44-byte header and the samples, little-endian.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(44 + 2 * samples.count)
        func put32(_ v: Int) { for s in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> s)) } }
        func put16(_ v: Int) { out.append(UInt8(truncatingIfNeeded: v)); out.append(UInt8(truncatingIfNeeded: v >> 8)) }
        out += Array("RIFF".utf8); put32(36 + 2 * samples.count); out += Array("WAVEfmt ".utf8)
        put32(16); put16(1); put16(1); put32(rate); put32(rate * 2); put16(2); put16(16)
        out += Array("data".utf8); put32(2 * samples.count)
        for s in samples { put16(Int(s)) }
        return out
    }

    /// One track `seconds` long with each clip placed at its start (in seconds), summed and
    /// clipped where two meet; each clip fades in and out over 5 ms, so a clip that was cut
    /// mid-wave does not click. Clips of another rate than `rate` are refused (nil).
    public static func track(_ placed: [(at: Double, clip: Wave)], seconds: Double, rate: Int) -> Wave? {
        guard Wave.rates.contains(rate), seconds.isFinite, seconds >= 0, seconds <= 3_600 else { return nil }
        let total = Int((seconds * Double(rate)).rounded())
        var sum = [Int32](repeating: 0, count: total)
        let fade = max(1, rate / 200)
        for (at, clip) in placed {
            guard clip.rate == rate, at.isFinite, at >= 0 else { return nil }
            let start = Int((at * Double(rate)).rounded()), n = clip.samples.count
            for i in 0..<n where start + i < total {
                let edge = min(i, n - 1 - i)
                let gain = edge < fade ? Int32(edge * 1024 / fade) : 1024
                sum[start + i] += Int32(clip.samples[i]) * gain / 1024
            }
        }
        return Wave(rate: rate, samples: sum.map { Int16(clamping: $0) })
    }
}
