// Pages: the watch page and the short pages for a deleted, unknown or broken
// link. Plain HTML and CSS, no script: they must work with a keyboard and a
// screen reader, keep WCAG AA contrast and fit a phone.
import MathreelCore

enum Pages {
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

    static let style = """
        :root{color-scheme:light}
        body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1f;background:#f6f6f8}
        main{max-width:56rem;margin:0 auto;padding:1rem}
        h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem}
        .problem{font-size:1.125rem;margin:0 0 1rem;white-space:pre-wrap;overflow-wrap:anywhere}
        video{display:block;width:100%;height:auto;max-height:70vh;background:#000;border-radius:.5rem}
        .answer{margin:1rem 0;padding:.75rem 1rem;background:#fff;border-left:.25rem solid #1d4ed8;overflow-wrap:anywhere}
        .actions{margin:1.25rem 0}
        .button{display:inline-block;padding:.75rem 1.25rem;border-radius:.5rem;background:#1d4ed8;color:#fff;font-weight:600;text-decoration:none}
        .button:hover{background:#1e40af}
        a:focus-visible,video:focus-visible{outline:.2rem solid #b45309;outline-offset:.2rem}
        .note{color:#44444c;font-size:.95rem}
        """

    static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex, nofollow">
        <title>\(escape(title))</title>
        <style>\(style)</style>
        </head>
        <body>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    /// The player for one live link. `base` is `/v/<token>`, relative to the page.
    static func watch(_ link: Link, base: String, ready: Double) -> String {
        let problem = link.problem.isEmpty ? "Your animation" : link.problem
        let poster = link.poster == nil ? "" : " poster=\"\(base)/poster.jpg\""
        let track = link.captions == nil ? "" : "\n<track kind=\"captions\" src=\"\(base)/captions.vtt\" srclang=\"en\" label=\"English\" default>"
        let answer = link.answer.map { "<p class=\"answer\"><strong>Answer:</strong> \(escape($0))</p>" } ?? ""
        return page(title: "Your math video", body: """
            <h1>Your math video</h1>
            <p class="problem">\(escape(problem))</p>
            <video controls playsinline preload="none"\(poster) aria-describedby="about">
            <source src="\(base)/video" type="\(escape(link.contentType))">\(track)
            Your browser cannot play this video here. Use the download button below.
            </video>
            \(answer)
            <p class="actions"><a class="button" href="\(base)/download" download>Download the video (\(megabytes(link.bytes)))</a></p>
            <p class="note" id="about">This link works once: the video is deleted from the server as soon as it has been watched to the end or downloaded, and after \(Lifetimes.words(ready)) if it is not used. Download it if you want to keep it.</p>
            """)
    }

    static func gone(expired: Bool) -> String {
        page(title: "Video deleted", body: expired ? """
            <h1>This video has been deleted</h1>
            <p>The link was not used in time, so the video was deleted as promised.</p>
            <p>Send the problem again to get a new video.</p>
            """ : """
            <h1>This video has been deleted</h1>
            <p>It was watched or downloaded, so it was deleted from the server as promised. Each link works once.</p>
            <p>Send the problem again if you need a new video.</p>
            """)
    }

    static let notFound = page(title: "Link not found", body: """
        <h1>Link not found</h1>
        <p>There is no video at this address. Check that the link was copied whole, or send the problem again.</p>
        """)

    static let broken = page(title: "Video unavailable", body: """
        <h1>The video cannot be shown right now</h1>
        <p>Something went wrong on the server while reading it. Please try the link again in a minute.</p>
        """)

    static func megabytes(_ n: Int64) -> String {
        n < 1_000_000 ? "\(max(1, n / 1000)) kB" : "\(n / 1_000_000).\((n % 1_000_000) / 100_000) MB"
    }
}
