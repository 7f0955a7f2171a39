// AddressRange: IP addresses as bytes, and the ranges MATHREEL_TRUSTED_PROXIES
// names (an address, or CIDR). Also the key a client's rate limit counts under:
// the IPv4 address, or the IPv6 /64 (one host is usually given a whole /64).
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address; IPv4-mapped IPv6 reads as IPv4.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(_ text: String) {
        var t = text.trimmed()
        if t.hasPrefix("["), t.hasSuffix("]") { t = String(t.dropFirst().dropLast()) }
        if let zone = t.firstIndex(of: "%") { t = String(t[..<zone]) }
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, t, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, t, &v6) == 1 {
            let b = withUnsafeBytes(of: &v6) { Array($0) }
            bytes = b.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] ? Array(b.suffix(4)) : b
        } else {
            return nil
        }
    }

    public var isV4: Bool { bytes.count == 4 }

    public var description: String {
        if isV4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
    }

    /// What one client's limits count under: the IPv4 address, the IPv6 /64.
    public var limitKey: String {
        isV4 ? description : "v6:" + bytes.prefix(8).map { String($0, radix: 16) }.joined(separator: ".") + "/64"
    }
}

/// `10.0.0.0/8`, `::1`, `fd00::/8`: an address with an optional prefix length.
public struct AddressRange: Sendable, Equatable {
    public let base: IPAddress
    public let bits: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let base = IPAddress(first) else { return nil }
        let full = base.bytes.count * 8
        if parts.count == 2 {
            guard let b = Int(parts[1]), (0...full).contains(b) else { return nil }
            bits = b
        } else {
            bits = full
        }
        self.base = base
    }

    public func contains(_ a: IPAddress) -> Bool {
        guard a.bytes.count == base.bytes.count else { return false }
        var left = bits
        for (x, y) in zip(a.bytes, base.bytes) where left > 0 {
            let take = min(8, left)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - take))
            if x & mask != y & mask { return false }
            left -= take
        }
        return true
    }
}

extension Array where Element == AddressRange {
    public func contains(_ a: IPAddress) -> Bool { contains { $0.contains(a) } }
}
