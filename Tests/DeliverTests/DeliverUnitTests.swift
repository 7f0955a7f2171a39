// The pure parts of delivery: Range headers, the coverage that makes a full
// transfer, tokens, the multipart body an inline upload sends, the words sent.
import Foundation
import MathreelCore
import Testing
import TestSupport
@testable import DeliverService

@Suite struct RangeHeaderTests {
    @Test(arguments: [
        ("bytes=0-99", RangeRequest.part(0...99)),
        ("bytes=100-", .part(100...999)),
        ("bytes=-50", .part(950...999)),
        ("bytes=-5000", .part(0...999)),
        ("bytes=990-5000", .part(990...999)),
        ("bytes=999-999", .part(999...999)),
        ("bytes=1000-", .unsatisfiable),
        ("bytes=5000-6000", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=0-1,5-6", .whole),
        ("bytes=9-3", .whole),
        ("items=0-5", .whole),
        ("bytes=a-b", .whole),
        ("bytes=0x10-", .whole),
    ])
    func aRangeHeaderIsReadAsTheRFCSays(_ header: String, _ expected: RangeRequest) {
        #expect(RangeRequest(header: header, size: 1000) == expected)
    }

    @Test func noHeaderIsTheWholeFile() {
        #expect(RangeRequest(header: nil, size: 10) == .whole)
    }

    @Test func rangesMergeIntoWhatWasServed() {
        #expect(AccessLedger.merge([0...9, 20...29, 10...19]) == [0...29])
        #expect(AccessLedger.merge([5...9, 0...3]) == [0...3, 5...9])
        #expect(AccessLedger.merge([0...50, 10...20]) == [0...50])
    }
}

@Suite struct TokenTests {
    @Test func tokensCarry256RandomBitsAndOnlyTheirShapeIsLookedUp() throws {
        let a = Token.make(), b = Token.make()
        #expect(a != b)
        #expect(a.text.utf8.count == 43)
        #expect(Token(parsing: a.text[...]) == a)
        #expect(a.hash == SHA256.hex(Array(a.text.utf8)))
        #expect(a.hash.count == 64)
        for bad in ["", "short", String(a.text.dropLast()), a.text + "x", "../../../../etc/passwd", String(repeating: "%", count: 43)] {
            #expect(Token(parsing: bad[...]) == nil, "\(bad)")
        }
    }

    @Test func base64URLMatchesFoundations() {
        for n in 0..<40 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == expected)
        }
    }
}

@Suite struct MessageTests {
    @Test func aMultipartUploadParsesBackIntoItsParts() throws {
        var form = Multipart()
        let video = (0..<5000).map { UInt8($0 % 251) } + Array("\r\n--".utf8)
        form.field("chat_id", "123456789")
        form.field("caption", "x² − 5x + 6 = 0")
        form.file("video", filename: "solution.mp4", type: "video/mp4", video)
        let parts = try #require(parseMultipart(form.finished(), contentType: form.contentType))
        #expect(parts.map(\.name) == ["chat_id", "caption", "video"])
        #expect(parts[0].text == "123456789")
        #expect(parts[1].text == "x² − 5x + 6 = 0")
        #expect(parts[2].filename == "solution.mp4")
        #expect(parts[2].contentType == "video/mp4")
        #expect(parts[2].body == video)
    }

    @Test func aFailureNoticeSaysWhatHappenedAndHowToRetryOnItsChannel() {
        var job = Job(kind: .problem, problem: "Solve x^2 = 4 please", origin: JobOrigin(channel: .telegram, chatID: "5"))
        job.error = JobError(stage: "render", code: ErrorCode.renderTimeout, message: "The animation took longer than 300 s to render.")
        job.record(.failed, by: "render")
        let telegram = Notices.failed(job)
        #expect(telegram.text.contains("The animation took longer than 300 s to render."))
        #expect(telegram.text.contains("/retry"))
        #expect(telegram.button?.callback == "retry:\(job.id)")
        job.origin.channel = .whatsapp
        #expect(Notices.failed(job).text.contains("Reply /retry"))
        #expect(Notices.key(job, .failed) != Notices.key(job, .ready))
    }

    @Test func anOverlongProblemIsClippedToFitTheMessageLimits() {
        let job = Job(kind: .problem, problem: String(repeating: "x + ", count: 2000), origin: JobOrigin(channel: .telegram, chatID: "5"))
        let m = Notices.ready(job, url: "https://v.example/v/abc", ready: 86_400)
        #expect(m.text.utf16.count < 1000)
        #expect(m.text.contains("https://v.example/v/abc"))
        #expect(m.text.contains("24 hours"))
    }
}

@Suite struct PageTemplateTests {
    @Test func valuesAreEscapedSectionsFollowTheirValueAndRawIsRaw() {
        let t = Template(Array("<p>{{a}}</p>{{#b}}<i>{{b}}</i>{{/b}}{{#c}}<b>never</b>{{/c}}{{{raw}}}{{missing}}".utf8))
        #expect(t.render(["a": "<script>&\"'", "b": "yes", "c": nil, "raw": "<em>x</em>"])
                == "<p>&lt;script&gt;&amp;&quot;&#39;</p><i>yes</i><em>x</em>")
        #expect(Template(Array("an {{unclosed".utf8)).render([:]) == "an {{unclosed", "a stray brace is kept, not a crash")
    }

    @Test func theWatchPageShowsWhatTheLinkHasAndNothingUnfilled() {
        var link = Link(jobID: JobID.make(), video: "v.mp4", captions: nil, poster: "p.jpg", contentType: "video/mp4", bytes: 2_500_000,
                        problem: "Solve <b>x</b> + 1 = 2", answer: nil, expiresAt: 0)
        let page = Pages.watch(link, base: "/v/tok", ready: 86_400)
        #expect(page.contains("poster=\"/v/tok/poster.jpg\"") && !page.contains("<track") && !page.contains("class=\"answer\""))
        #expect(page.contains("Solve &lt;b&gt;x&lt;/b&gt; + 1 = 2") && page.contains("Download the video (2.5 MB)") && page.contains("after 24 hours"))
        #expect(!page.contains("{{") && !page.contains("}}") && page.hasPrefix("<!doctype html>") && page.contains("<title>Your math video</title>"))
        link.captions = "c.vtt"
        link.answer = "x = 1"
        let full = Pages.watch(link, base: "/v/tok", ready: 86_400)
        #expect(full.contains("<track kind=\"captions\" src=\"/v/tok/captions.vtt\"") && full.contains("<strong>Answer:</strong> x = 1"))
        for other in [Pages.gone(expired: true), Pages.gone(expired: false), Pages.notFound, Pages.broken] {
            #expect(!other.contains("{{") && other.contains("<h1>"))
        }
    }
}
