// The production clients against local fake servers that speak each provider's
// real wire format: what they send, and what they make of the replies.
@testable import CodegenService
import Foundation
import MathreelCore
import MathreelHTTP
import MathreelProviders
import Testing
import TestSupport

let goodScene = "from manim import *\n\nclass Solution(Scene):\n    def construct(self):\n        self.play(Write(MathTex(r\"x = 4\")))\n        self.wait(0.5)\n"

/// An OpenAI chat.completion carrying `content`.
func chatCompletion(_ content: String, finish: String = "stop", model: String = "m") -> JSONValue {
    .object(["id": .string("chatcmpl-1"), "object": .string("chat.completion"), "created": .int(1_767_225_900), "model": .string(model),
             "choices": .array([.object(["index": .int(0), "message": .object(["role": .string("assistant"), "content": .string(content)]),
                                          "finish_reason": .string(finish), "logprobs": .null])]),
             "usage": .object(["prompt_tokens": .int(57), "completion_tokens": .int(420), "total_tokens": .int(477)])])
}

func fenced(_ code: String) -> String { "Here is the scene:\n\n```python\n\(code)```\n" }

@Suite struct ProviderClientTests {
    let messages = [ChatMessage("system", "write manim"), ChatMessage("user", "Solve 2x + 3 = 11")]

    func settings(_ env: [String: String]) -> ProviderSettings { ProviderSettings(environment: env) }

    @Test func cloudflareNativeSendsMessagesAndMaxTokensAndReadsBothResultShapes() async throws {
        let server = try FakeHTTPServer { _ in .json(200, .object(["result": .object(["response": .string(fenced(goodScene))]), "success": .bool(true), "errors": .array([]), "messages": .array([])])) }
        let p = try #require(settings(["CLOUDFLARE_ACCOUNT_ID": "acc1", "CLOUDFLARE_API_TOKEN": "tok", "MATHREEL_CLOUDFLARE_BASE_URL": server.baseURL]).providers[.cloudflare])
        let c = try await p.complete(messages, via: HTTPClient())
        #expect(c.text.contains("class Solution"))
        let r = try #require(server.requests.first)
        #expect(r.method == "POST" && r.path == "/client/v4/accounts/acc1/ai/run/@cf/qwen/qwen2.5-coder-32b-instruct", "the model id literally in the path")
        #expect(r.headers["authorization"] == "Bearer tok")
        #expect(r.json?.objectValue?["max_tokens"]?.intValue == 4096, "the 256-token default would cut a scene off")
        #expect(r.json?.objectValue?["messages"] != nil)
        // gpt-oss style: an OpenAI chat.completion inside result.
        server.respond { _ in .json(200, .object(["result": chatCompletion("ok text"), "success": .bool(true), "errors": .array([])])) }
        #expect(try await p.complete(messages, via: HTTPClient()).text == "ok text")
    }

    @Test func cloudflareOpenAIRouteAndItsEnvelopeErrors() async throws {
        let server = try FakeHTTPServer { _ in .json(200, chatCompletion("reply")) }
        let p = try #require(settings(["CLOUDFLARE_ACCOUNT_ID": "acc1", "CLOUDFLARE_API_TOKEN": "tok", "MATHREEL_CLOUDFLARE_BASE_URL": server.baseURL,
                                       "MATHREEL_CLOUDFLARE_API": "openai"]).providers[.cloudflare])
        #expect(try await p.complete(messages, via: HTTPClient()).text == "reply")
        #expect(server.requests.first?.path == "/client/v4/accounts/acc1/ai/v1/chat/completions")
        #expect(server.requests.first?.json?.objectValue?["model"] == .string("@cf/qwen/qwen2.5-coder-32b-instruct"))
        server.respond { _ in .json(429, #"{"success":false,"errors":[{"code":4006,"message":"you have used up your daily free allocation of 10,000 neurons"}]}"#) }
        await #expect { try await p.complete(messages, via: HTTPClient()) } throws: { e in
            if case ProviderFailure.quotaExhausted = e { true } else { false }
        }
    }

    @Test func groqHuggingFaceAndOpenAISpeakChatCompletions() async throws {
        let server = try FakeHTTPServer { r in .json(200, chatCompletion("from \(r.path)")) }
        let s = settings(["GROQ_API_KEY": "g", "HF_TOKEN": "h", "OPENAI_API_KEY": "o",
                          "MATHREEL_GROQ_BASE_URL": server.baseURL, "MATHREEL_HUGGINGFACE_BASE_URL": server.baseURL,
                          "OPENAI_BASE_URL": server.baseURL + "/v1", "MATHREEL_OPENAI_MODEL": "gpt-test"])
        #expect(s.chain == [.groq, .huggingface, .openai, .offline], "keys set, in the documented order, offline last")
        #expect(try await s.providers[.groq]!.complete(messages, via: HTTPClient()).text == "from /openai/v1/chat/completions")
        #expect(try await s.providers[.huggingface]!.complete(messages, via: HTTPClient()).text == "from /v1/chat/completions")
        #expect(try await s.providers[.openai]!.complete(messages, via: HTTPClient()).text == "from /v1/chat/completions")
        let bodies = server.requests.compactMap { $0.json?.objectValue }
        #expect(bodies.map { $0["model"]?.stringValue ?? "" } == ["llama-3.3-70b-versatile", "Qwen/Qwen2.5-Coder-32B-Instruct", "gpt-test"])
        #expect(bodies.allSatisfy { $0["stream"] == .bool(false) && $0["max_tokens"]?.intValue == 4096 })
        #expect(server.requests.map { $0.headers["authorization"] ?? "" } == ["Bearer g", "Bearer h", "Bearer o"])
    }

    @Test func ollamaNativeChat() async throws {
        let server = try FakeHTTPServer { _ in
            .json(200, .object(["model": .string("qwen2.5-coder:7b"), "created_at": .string("2026-11-21T17:00:00Z"),
                                "message": .object(["role": .string("assistant"), "content": .string(fenced(goodScene))]),
                                "done": .bool(true), "done_reason": .string("stop"), "eval_count": .int(298)]))
        }
        let p = try #require(settings(["OLLAMA_URL": server.baseURL]).providers[.ollama])
        #expect(try await p.complete(messages, via: HTTPClient()).text.contains("class Solution"))
        let body = try #require(server.requests.first?.json?.objectValue)
        #expect(server.requests.first?.path == "/api/chat" && body["stream"] == .bool(false))
        #expect(body["options"]?.objectValue?["num_predict"]?.intValue == 4096)
        server.respond { _ in .json(200, .object(["message": .object(["role": .string("assistant"), "content": .string("partial")]), "done": .bool(true), "done_reason": .string("length")])) }
        await #expect(throws: ProviderFailure.truncated) { try await p.complete(messages, via: HTTPClient()) }
    }

    @Test func timeoutsCutRepliesAndMalformedBodies() async throws {
        let server = try FakeHTTPServer { _ in FakeResponse(status: 200, body: Array("{}".utf8), delay: 3) }
        let p = try #require(settings(["GROQ_API_KEY": "g", "MATHREEL_GROQ_BASE_URL": server.baseURL, "MATHREEL_PROVIDER_TIMEOUT_S": "1"]).providers[.groq])
        await #expect { try await p.complete(messages, via: HTTPClient()) } throws: { e in
            if case ProviderFailure.timeout = e { true } else { false }
        }
        server.respond { _ in .json(200, chatCompletion(String(repeating: "x", count: 50), finish: "length")) }
        await #expect(throws: ProviderFailure.truncated) { try await p.complete(messages, via: HTTPClient()) }
        server.respond { _ in FakeResponse(status: 200, headers: [("Content-Type", "application/json")], body: chatCompletion("whole").serialized(pretty: false), cutAfter: 40) }
        await #expect { try await p.complete(messages, via: HTTPClient()) } throws: { e in
            switch e { case ProviderFailure.malformed, ProviderFailure.connection: true; default: false }
        }
        server.respond { _ in FakeResponse(status: 200, headers: [("Content-Type", "text/html")], body: Array("<html>gateway</html>".utf8)) }
        await #expect { try await p.complete(messages, via: HTTPClient()) } throws: { e in
            if case ProviderFailure.malformed = e { true } else { false }
        }
        let nothing = try FakeHTTPServer { _ in .json(200, "{}") }
        nothing.stop()
        let gone = try #require(settings(["GROQ_API_KEY": "g", "MATHREEL_GROQ_BASE_URL": nothing.baseURL]).providers[.groq])
        await #expect { try await gone.complete(messages, via: HTTPClient()) } throws: { e in
            if case ProviderFailure.connection = e { true } else { false }
        }
    }

    @Test func theChainIsConfigurable() {
        let s = settings(["MATHREEL_PROVIDERS": "ollama, groq, nonsense, huggingface", "GROQ_API_KEY": "g", "OLLAMA_URL": "http://127.0.0.1:1"])
        #expect(s.chain == [.ollama, .groq, .offline])
        #expect(s.problems.contains("'nonsense' is not a provider") && s.problems.contains("huggingface has no key or URL set"))
        #expect(settings([:]).chain == [.offline], "a fresh install: the offline solver alone")
    }
}
