// The circuit breaker per provider: closed, open, half-open with one trial,
// known resets kept across a restart.
@testable import CodegenService
import Foundation
import MathreelProviders
import Testing
import TestSupport

/// A clock the test moves.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var t: Date
    init(_ t: Date) { self.t = t }
    var now: Date { lock.lock(); defer { lock.unlock() }; return t }
    func advance(_ s: Double) { lock.lock(); t = t.addingTimeInterval(s); lock.unlock() }
}

@Suite struct BreakerTests {
    @Test func threeFailuresOpenItAndOneTrialDecides() async {
        let clock = TestClock(Date(timeIntervalSince1970: 1_795_282_200))
        let b = Breakers(file: nil, now: { clock.now })
        for _ in 0..<2 { await b.failed(.groq, .server(503, "busy")) }
        #expect(await b.allow(.groq), "two failures: still closed")
        await b.failed(.groq, .timeout("slow"))
        #expect(await b.state(.groq).state == .open)
        #expect(await !b.allow(.groq), "open: no calls")
        clock.advance(34)  // past 30 s (+ up to 10 % jitter)
        #expect(await b.allow(.groq), "time is up: one trial")
        #expect(await b.state(.groq).state == .halfOpen)
        #expect(await !b.allow(.groq), "only one trial at a time")
        await b.failed(.groq, .server(500, "still down"))
        let reopened = await b.state(.groq)
        #expect(reopened.state == .open && reopened.trips == 2)
        #expect(reopened.openUntil! >= clock.now.addingTimeInterval(60), "the second trip waits twice as long")
        clock.advance(70)
        #expect(await b.allow(.groq))
        await b.succeeded(.groq)
        #expect(await b.state(.groq) == Breaker(), "a good trial closes it")
    }

    @Test func quotaStaysOpenUntilTheResetAndSurvivesARestart() async {
        let dir = TempDir("mathreel-breakers")
        let clock = TestClock(Date(timeIntervalSince1970: 1_795_282_200))
        let file = dir.path + "/breakers.json"
        let reset = Date(timeIntervalSince1970: 1_795_305_600)
        let b = Breakers(file: file, now: { clock.now })
        await b.failed(.cloudflare, .quotaExhausted(until: reset, "daily free allocation"))
        clock.advance(3600)
        #expect(await !b.allow(.cloudflare), "an hour later: still used up")
        // A new daemon reads the same state: no call is spent on the known-exhausted quota.
        let again = Breakers(file: file, now: { clock.now })
        #expect(await again.state(.cloudflare).openUntil == reset)
        #expect(await !again.allow(.cloudflare))
        clock.advance(6.5 * 3600)  // past midnight UTC
        #expect(await again.allow(.cloudflare))
        #expect(await again.allow(.groq), "other providers were never touched")
    }

    @Test func aRateLimitWaitsItsRetryAfterAndOurOwnBugCountsNothing() async {
        let clock = TestClock(Date(timeIntervalSince1970: 1_795_282_200))
        let b = Breakers(file: nil, now: { clock.now })
        await b.failed(.groq, .rateLimited(retryAfter: 20, "slow down"))
        #expect(await !b.allow(.groq))
        clock.advance(21)
        #expect(await b.allow(.groq))
        for _ in 0..<5 { await b.failed(.openai, .badRequest("our fault")) }
        #expect(await b.state(.openai) == Breaker())
    }
}
