// The hand-written JSON parser: random trees round-trip, it agrees with
// Foundation's JSONSerialization on what is valid, and its errors say where.
import Foundation
import MathreelCore
import Testing
import TestSupport

private func randomValue(_ rng: inout SplitMix64, depth: Int = 0) -> JSONValue {
    let pick = Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &rng)
    switch pick {
    case 0: return .null
    case 1: return .bool(Bool.random(using: &rng))
    case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &rng))
    case 3: return .double(Double.random(in: -1e6...1e6, using: &rng))
    case 4:
        let alphabet = Array("aZ09 \"\\/\n\t\u{1}é€😀ש\u{200F}{}[],:")
        return .string(String((0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }))
    case 5: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
    default:
        var o = JSONObject()
        for k in 0..<Int.random(in: 0...4, using: &rng) { o["k\(k)\u{e9}"] = randomValue(&rng, depth: depth + 1) }
        return .object(o)
    }
}

/// The document with each comma that is followed (after spaces) by '}' or ']' removed, outside strings.
private func removingTrailingCommas(_ doc: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var inString = false, escaped = false
    for (k, c) in doc.enumerated() {
        if inString {
            if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
        } else if c == 0x22 {
            inString = true
        } else if c == 0x2C, let next = doc[(k + 1)...].first(where: { $0 != 0x20 }), next == 0x7D || next == 0x5D {
            continue
        }
        out.append(c)
    }
    return out
}

@Suite struct JSONParserTests {
    @Test func randomTreesRoundTripPrettyAndCompact() throws {
        var rng = SplitMix64(state: 42)
        for _ in 0..<2_000 {
            let v = randomValue(&rng)
            for pretty in [true, false] {
                let back = try JSONValue.parse(v.serialized(pretty: pretty))
                if case .double(let d) = v, d.rounded() == d {
                    #expect(back == .int(Int64(d)) || back == v)
                } else {
                    #expect(back == v, "round trip of \(String(decoding: v.serialized(pretty: false), as: UTF8.self))")
                }
            }
        }
    }

    @Test func agreesWithFoundationOnMutatedDocuments() throws {
        var rng = SplitMix64(state: 7)
        let seed = Array(#"{"a": [1, 2.5e3, -0, true, null, "x\u00e9\n"], "b": {"c": "d"}}"#.utf8)
        var disagreements: [String] = []
        for _ in 0..<5_000 {
            var doc = seed
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 0..<doc.count, using: &rng)
                let bytes = Array("{}[],:\"\\ 0-1.eEtrufalsn".utf8)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: doc.remove(at: at)
                case 1: doc.insert(bytes.randomElement(using: &rng)!, at: at)
                default: doc[at] = bytes.randomElement(using: &rng)!
                }
                if doc.isEmpty { doc = [0x20] }
            }
            let ours = (try? JSONValue.parse(doc)) != nil
            var theirs = (try? JSONSerialization.jsonObject(with: Data(doc), options: [.fragmentsAllowed])) != nil
            // swift-foundation accepts a trailing comma ("d",}); RFC 8259 does not, and neither do we.
            if theirs, !ours, (try? JSONValue.parse(removingTrailingCommas(doc))) != nil { theirs = false }
            if ours != theirs { disagreements.append(String(decoding: doc, as: UTF8.self)) }
        }
        #expect(disagreements.isEmpty, "disagree on: \(disagreements.prefix(5))")
    }

    @Test func errorsSayWhereAndWhat() {
        func message(_ text: String) -> String {
            do { _ = try JSONValue.parse(Array(text.utf8)); return "" } catch { return "\(error)" }
        }
        #expect(message("{\n  \"a\": 1\n  \"b\": 2\n}").contains("expected ',' or '}' at line 3, column 3"))
        #expect(message("{\"a\": tru}").contains("expected true"))
        #expect(message("[1, 2").contains("a ']' is missing"))
        #expect(message("{\"a\": \"line\nbreak\"}").contains("control character"))
        #expect(message("{} x").contains("unexpected text after the end"))
        #expect(message(String(repeating: "[", count: 300) + String(repeating: "]", count: 300)).contains("nested more than"))
        #expect(message("\"\\ud800\"").contains("surrogate"))
        #expect((try? JSONValue.parse(Array("\"\\ud83d\\ude00\"".utf8))) == .string("😀"))
    }
}
