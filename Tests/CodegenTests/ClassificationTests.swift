// Every provider's failure on the wire, classified as the chain needs it
// (each provider's documented errors: console.groq.com/docs/errors and /rate-limits, developers.cloudflare.com/workers-ai/platform/errors, huggingface.co/docs/inference-providers, ollama's docs/api.md): quota vs rate limit, our bug vs theirs, when to come back.
@testable import CodegenService
import Foundation
import MathreelCore
import MathreelHTTP
@testable import MathreelProviders
import Testing

@Suite struct ClassificationTests {
    // 2026-11-21 17:30:00 UTC
    let now = Date(timeIntervalSince1970: 1_795_282_200)

    func response(_ status: Int, _ body: String, _ headers: [String: String] = [:]) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
    }

    @Test func cloudflareDailyAllocationIsQuotaUntilMidnightUTC() {
        let midnight = Date(timeIntervalSince1970: 1_795_305_600)  // 2026-11-22 00:00 UTC
        for body in [#"{"result":null,"success":false,"errors":[{"code":3036,"message":"You have used up your daily free allocation of 10,000 neurons."}],"messages":[]}"#,
                     #"{"success":false,"errors":[{"code":4006,"message":"you have used up your daily free allocation of 10,000 neurons"}]}"#] {
            #expect(ProviderFailure.classify(response(429, body), provider: .cloudflare, now: now)
                == .quotaExhausted(until: midnight, ProviderFailure.message(response(429, body))))
        }
    }

    @Test func cloudflareCapacityIsARateLimit() {
        let body = #"{"success":false,"errors":[{"code":3040,"message":"Capacity temporarily exceeded, please try again."}],"result":{},"messages":[]}"#
        guard case .rateLimited = ProviderFailure.classify(response(429, body), provider: .cloudflare, now: now) else { Issue.record("not a rate limit"); return }
    }

    @Test func groqPerMinuteWaitsRetryAfterAndPerDayWaitsForTheReset() {
        let tpm = #"{"error":{"message":"Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_1` service tier `on_demand` on tokens per minute (TPM): Limit 12000, Used 11972, Requested 4351. Please try again in 5.289s.","type":"tokens","code":"rate_limit_exceeded"}}"#
        #expect(ProviderFailure.classify(response(429, tpm, ["retry-after": "7"]), provider: .groq, now: now)
            == .rateLimited(retryAfter: 7, ProviderFailure.message(response(429, tpm))))
        // Without the header, the message's own hint.
        guard case .rateLimited(let hinted, _) = ProviderFailure.classify(response(429, tpm), provider: .groq, now: now) else { Issue.record("no"); return }
        #expect(hinted == 5.289)
        let tpd = #"{"error":{"message":"Rate limit reached for model `llama-3.3-70b-versatile` on tokens per day (TPD): Limit 100000, Used 100000, Requested 900.","type":"tokens","code":"rate_limit_exceeded"}}"#
        let r = response(429, tpd, ["retry-after": "3", "x-ratelimit-reset-tokens": "2h13m20s", "x-ratelimit-reset-requests": "59.5s"])
        #expect(ProviderFailure.classify(r, provider: .groq, now: now) == .quotaExhausted(until: now.addingTimeInterval(8000), ProviderFailure.message(r)))
    }

    @Test func huggingFace402IsQuotaUntilTheFirstOfNextMonth() {
        let body = #"{"error":"You have exceeded your monthly included credits for Inference Providers. Subscribe to PRO to get 20x more monthly included credits."}"#
        let first = Date(timeIntervalSince1970: 1_796_083_200)  // 2026-12-01 00:00 UTC
        #expect(ProviderFailure.classify(response(402, body), provider: .huggingface, now: now) == .quotaExhausted(until: first, ProviderFailure.message(response(402, body))))
    }

    @Test func openAIInsufficientQuotaIsNotARateLimit() {
        let quota = #"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#
        guard case .quotaExhausted = ProviderFailure.classify(response(429, quota), provider: .openai, now: now) else { Issue.record("not quota"); return }
        let rate = #"{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#
        guard case .rateLimited = ProviderFailure.classify(response(429, rate), provider: .openai, now: now) else { Issue.record("not a rate limit"); return }
    }

    @Test func serverErrorsFailOverAndOurOwn400DoesNot() {
        for status in [500, 502, 503, 504] {
            let f = ProviderFailure.classify(response(status, #"{"error":{"message":"overloaded","type":"server_error"}}"#), provider: .groq, now: now)
            #expect(f == .server(status, "overloaded") && f.failsOver)
        }
        let ours = ProviderFailure.classify(response(400, #"{"error":{"message":"'messages' must be an array","type":"invalid_request_error"}}"#), provider: .openai, now: now)
        #expect(ours == .badRequest("'messages' must be an array") && !ours.failsOver)
        let key = ProviderFailure.classify(response(401, #"{"result":null,"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[]}"#), provider: .cloudflare, now: now)
        #expect(key == .configuration(401, "Authentication error") && key.failsOver)
        let ollama = ProviderFailure.classify(response(404, #"{"error":"model \"qwen2.5-coder:7b\" not found, try pulling it first"}"#), provider: .ollama, now: now)
        #expect(ollama == .configuration(404, "model \"qwen2.5-coder:7b\" not found, try pulling it first"))
    }

    @Test func retryAfterInBothFormsAndGoDurations() {
        #expect(response(429, "", ["retry-after": "120"]).retryAfter(now: now) == 120)
        #expect(response(429, "", ["retry-after": "Sat, 21 Nov 2026 17:31:30 GMT"]).retryAfter(now: now) == 90)
        #expect(response(429, "", ["retry-after": "soon"]).retryAfter(now: now) == nil)
        #expect(ProviderFailure.goDuration("940ms") == 0.94)
        #expect(ProviderFailure.goDuration("2m59.56s").map { ($0 * 100).rounded() / 100 } == 179.56)
        #expect(ProviderFailure.goDuration("1h2m3s") == 3723)
        #expect(ProviderFailure.goDuration("12") == 12)
        #expect(ProviderFailure.goDuration("1x") == nil)
    }
}
