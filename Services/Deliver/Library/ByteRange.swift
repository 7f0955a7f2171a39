// ByteRange: what a `Range` header asks of a file of known size (RFC 9110 §14).
// One range is served as 206; several, or a header we cannot read, are ignored
// and the whole file is sent (which the RFC allows); a range wholly past the end
// is 416.
import MathreelCore

public enum RangeRequest: Equatable, Sendable {
    case whole
    case part(ClosedRange<Int64>)
    case unsatisfiable

    public init(header: String?, size: Int64) {
        guard let header else { self = .whole; return }
        let spec = header.trimmed()
        guard spec.lowercased().hasPrefix("bytes="), !spec.contains(",") else { self = .whole; return }
        let body = String(spec.dropFirst(6)).trimmed()
        guard let dash = body.firstIndex(of: "-") else { self = .whole; return }
        let first = String(body[..<dash]).trimmed(), last = String(body[body.index(after: dash)...]).trimmed()
        if first.isEmpty {
            // bytes=-N: the last N bytes.
            guard let n = Int64(last), last.allSatisfy(\.isASCIIDigit) else { self = .whole; return }
            guard n > 0, size > 0 else { self = .unsatisfiable; return }
            self = .part(max(0, size - n)...(size - 1))
            return
        }
        guard first.allSatisfy(\.isASCIIDigit), let start = Int64(first) else { self = .whole; return }
        var end = size - 1
        if !last.isEmpty {
            guard last.allSatisfy(\.isASCIIDigit), let e = Int64(last) else { self = .whole; return }
            guard e >= start else { self = .whole; return }  // invalid: ignored, per the RFC
            end = min(e, size - 1)
        }
        guard start < size else { self = .unsatisfiable; return }
        self = .part(start...end)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
