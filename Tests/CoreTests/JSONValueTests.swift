// JSONValue: deterministic output (sorted keys), every control character and quote
// escaped, output that parses back to the same value, integers kept as integers.
import Foundation
import MathreelCore
import Testing

func text(_ v: JSONValue, pretty: Bool = false) -> String {
    String(decoding: v.serialized(pretty: pretty), as: UTF8.self)
}

@Suite struct JSONValueTests {
    @Test func keysAreSorted() throws {
        let v = JSONValue.object(["b": .int(1), "a": .int(2), "C": .int(3), "aa": .int(4), "_": .null, "a1": .bool(true)])
        #expect(text(v) == #"{"C":3,"_":null,"a":2,"a1":true,"aa":4,"b":1}"# + "\n")
        // Pretty output: two-space indent, sorted at every level, a final newline.
        let nested = JSONValue.object(["z": .object(["y": .int(1), "x": .array([.int(1), .object(["q": .null, "p": .string("s")])])]), "m": .array([])])
        #expect(text(nested, pretty: true) == """
            {
              "m": [],
              "z": {
                "x": [
                  1,
                  {
                    "p": "s",
                    "q": null
                  }
                ],
                "y": 1
              }
            }

            """)
    }

    @Test func theSameObjectBuiltInAnotherOrderGivesTheSameBytes() {
        var a: JSONObject = [:]
        var b: JSONObject = [:]
        let keys = (0..<200).map { "key\($0)" }
        for k in keys { a[k] = .string(k) }
        for k in keys.reversed() { b[k] = .string(k) }
        #expect(JSONValue.object(a).serialized() == JSONValue.object(b).serialized())
    }

    @Test func controlCharactersAndQuotesAreEscaped() throws {
        let raw = "q\" b\\ n\n r\r t\t nul\u{0} us\u{1F} bs\u{8} ff\u{C} del\u{7F} é😀 שלום / \u{2028}"
        let out = text(.string(raw))
        #expect(out == #""q\" b\\ n\n r\r t\t nul\u0000 us\u001f bs\u0008 ff\u000c del\u007f é😀 שלום / "# + "\u{2028}\"\n")
        // Nothing below 0x20 is left raw except the final newline.
        let bytes = Array(out.utf8.dropLast())
        #expect(!bytes.contains { $0 < 0x20 || $0 == 0x7F })
        #expect(try JSONValue.parse(Array(out.utf8)) == .string(raw))

        // Keys are escaped the same way.
        let key = JSONValue.object(["a\"b\nc\u{1}": .int(1)])
        #expect(text(key) == #"{"a\"b\nc\u0001":1}"# + "\n")
        #expect(try JSONValue.parse(key.serialized()) == key)
    }

    @Test func everyControlCharacterRoundTrips() throws {
        let all = String((0..<0x80).map { Character(UnicodeScalar(UInt8($0))) })
        let v = JSONValue.object([all: .string(all)])
        for pretty in [true, false] {
            let bytes = v.serialized(pretty: pretty)
            #expect(try JSONValue.parse(bytes) == v)
            // Foundation's own parser agrees.
            let foundation = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String]
            #expect(foundation?[all] == all)
        }
    }

    @Test func aRichValueParsesBackToItselfPrettyOrNot() throws {
        let v = JSONValue.object([
            "null": .null, "t": .bool(true), "f": .bool(false),
            "zero": .int(0), "one": .int(1), "neg": .int(-42),
            "max": .int(Int64.max), "min": .int(Int64.min), "big": .int(9_007_199_254_740_993),
            "half": .double(0.5), "tiny": .double(1e-7), "pi": .double(3.141592653589793), "negf": .double(-2.25),
            "text": .string("Solve x^2 - 5x + 6 = 0"), "empty": .string(""),
            "list": .array([.int(1), .string("two"), .array([]), .object([:]), .null]),
            "obj": .object(["deep": .object(["deeper": .array([.bool(false)])])]),
        ])
        for pretty in [true, false] {
            let bytes = v.serialized(pretty: pretty)
            #expect(try JSONValue.parse(bytes) == v, "pretty: \(pretty)")
            #expect(bytes.last == UInt8(ascii: "\n"))
        }
    }

    @Test func integersStayIntegers() throws {
        let parsed = try JSONValue.parse(Array(#"{"a": 7, "b": -3, "c": 0, "d": 9223372036854775807, "e": -9223372036854775808, "f": 9007199254740993, "g": 1, "h": 0}"#.utf8))
        #expect(parsed == .object(["a": .int(7), "b": .int(-3), "c": .int(0), "d": .int(Int64.max), "e": .int(Int64.min),
                                  "f": .int(9_007_199_254_740_993), "g": .int(1), "h": .int(0)]))
        #expect(text(.int(7)) == "7\n")
        #expect(text(.int(Int64.max)) == "9223372036854775807\n")
        #expect(text(.array([.int(30), .int(-1)])) == "[30,-1]\n")
        // 1 and 0 are numbers, never booleans; true and false never numbers.
        #expect(try JSONValue.parse(Array("[1, 0, true, false]".utf8)) == .array([.int(1), .int(0), .bool(true), .bool(false)]))
        // Fractions stay fractions, and a whole double is written without ".0".
        #expect(try JSONValue.parse(Array("2.5".utf8)) == .double(2.5))
        #expect(text(.double(2.5)) == "2.5\n")
        #expect(text(.double(30)) == "30\n")
        #expect(JSONValue.double(30).intValue == 30)
        #expect(JSONValue.double(30.5).intValue == nil)
        #expect(text(.double(.nan)) == "null\n", "a non-finite number is never written as invalid JSON")
    }

    @Test func parseErrorsAreInPlainWords() {
        func message(_ bytes: [UInt8]) -> String {
            do { _ = try JSONValue.parse(bytes); return "" } catch { return "\(error)" }
        }
        #expect(message([]) == "the file is empty")
        #expect(message([0xFF, 0xFE]).contains("not UTF-8"))
        #expect(message(Array("{\"a\": ".utf8)).hasPrefix("the file is not valid JSON"))
        #expect(message(Array("{} {}".utf8)).hasPrefix("the file is not valid JSON"))
    }

    @Test func typeNamesAndExcerptsReadWell() {
        #expect(JSONValue.string("x").typeName == "text")
        #expect(JSONValue.int(1).typeName == "a number")
        #expect(JSONValue.array([]).typeName == "a list")
        #expect(JSONValue.object([:]).typeName == "an object")
        #expect(JSONValue.string("ultra").excerpt == "'ultra'")
        #expect(JSONValue.string(String(repeating: "a", count: 100)).excerpt == "'" + String(repeating: "a", count: 40) + "…'")
    }
}
