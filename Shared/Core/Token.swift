// Token: the random secrets people hold (delivery's links, web sessions). The
// state keeps only their SHA-256, so a copy of it cannot be turned back into
// working secrets.

/// A secret for a URL (a link's token, a web session's id): 256 random bits, base64url without padding (43 characters).
public struct Token: Sendable, Equatable, CustomStringConvertible {
    public let text: String

    public static func make() -> Token {
        var rng = SystemRandomNumberGenerator()  // getrandom(2)
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        return Token(text: Base64URL.encode(bytes))
    }

    /// Only something shaped like a token is looked up; anything else is unknown at once.
    public init?(parsing text: Substring) {
        guard text.utf8.count == 43, text.utf8.allSatisfy(Base64URL.isDigit) else { return nil }
        self.text = String(text)
    }
    public init(text: String) { self.text = text }

    /// What the state keeps.
    public var hash: String { SHA256.hex(Array(text.utf8)) }
    public var description: String { "token(\(hash.prefix(12)))" }
}

/// RFC 4648 §5: base64 with `-` and `_`, unpadded, so a token fits a URL path as is.
public enum Base64URL {
    public static func isDigit(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 45 || c == 95
    }
    public static func encode(_ bytes: [UInt8]) -> String {
        String(Data(bytes).base64EncodedString().compactMap { c -> Character? in
            switch c { case "+": "-"; case "/": "_"; case "=": nil; default: c }
        })
    }
}

