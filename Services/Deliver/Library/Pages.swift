// Pages: the watch page and the short pages for a deleted, unknown or broken
// link, from the HTML files in pages/ (embedded at build time). Plain HTML and
// CSS, no script: they must work with a keyboard and a screen reader, keep WCAG
// AA contrast and fit a phone. `Template` fills them in, escaping every value.
import MathreelCore

/// A page template: `{{name}}` is a value, HTML-escaped; `{{{name}}}` one inserted as
/// it is (only another template's output); `{{#name}}...{{/name}}` is kept only when
/// the value is there. Nothing else is special, and a name not given is an empty value.
struct Template: Sendable {
    let text: String
    init(_ bytes: [UInt8]) { text = String(decoding: bytes, as: UTF8.self) }

    func render(_ values: [String: String?]) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            out += rest[..<open.lowerBound]
            rest = rest[open.upperBound...]
            let raw = rest.hasPrefix("{")
            if raw { rest = rest.dropFirst() }
            guard let close = rest.firstRange(of: raw ? "}}}" : "}}") else { out += raw ? "{{{" : "{{"; break }
            let tag = String(rest[..<close.lowerBound])
            rest = rest[close.upperBound...]
            if tag.hasPrefix("#") {
                let name = String(tag.dropFirst())
                guard let end = rest.firstRange(of: "{{/\(name)}}") else { continue }
                let inner = Template(text: String(rest[..<end.lowerBound]))
                if let value = values[name], value != nil { out += inner.render(values) }
                rest = rest[end.upperBound...]
            } else {
                let value = (values[tag] ?? nil) ?? ""
                out += raw ? value : Template.escape(value)
            }
        }
        return out + rest
    }

    private init(text: String) { self.text = text }

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}

enum Pages {
    static let layout = Template(PackageResources.page_html)
    static let watchBody = Template(PackageResources.watch_html)

    static func page(title: String, body: String) -> String { layout.render(["title": title, "body": body]) }

    /// The player for one live link. `base` is `/v/<token>`, relative to the page.
    static func watch(_ link: Link, base: String, ready: Double) -> String {
        page(title: "Your math video", body: watchBody.render([
            "problem": link.problem.isEmpty ? "Your animation" : link.problem, "base": base,
            "poster": link.poster, "captions": link.captions, "answer": link.answer, "content_type": link.contentType,
            "size": megabytes(link.bytes), "ready": Lifetimes.words(ready),
        ]))
    }

    static func gone(expired: Bool) -> String {
        page(title: "Video deleted", body: Template(expired ? PackageResources.gone_expired_html : PackageResources.gone_watched_html).render([:]))
    }

    static let notFound = page(title: "Link not found", body: Template(PackageResources.not_found_html).render([:]))

    static let broken = page(title: "Video unavailable", body: Template(PackageResources.broken_html).render([:]))

    static func megabytes(_ n: Int64) -> String {
        n < 1_000_000 ? "\(max(1, n / 1000)) kB" : "\(n / 1_000_000).\((n % 1_000_000) / 100_000) MB"
    }
}
