// Providers: the model clients of the chain, each a small adapter over the one
// HTTP layer. Cloudflare Workers AI (native /ai/run or its OpenAI-compatible
// route), Groq, the HuggingFace router, any OpenAI-compatible server, Ollama.
// Each turns a reply into text or a classified failure (ProviderFailure).
import MathreelCore
import MathreelHTTP

public struct ChatMessage: Sendable, Equatable {
    public let role: String
    public let content: String
    public init(_ role: String, _ content: String) { self.role = role; self.content = content }
    var json: JSONValue { .object(["role": .string(role), "content": .string(content)]) }
}

/// What a provider said: the text, and why it stopped when it says.
public struct Completion: Sendable {
    public let text: String
    public let finishReason: String?
}

public enum ProviderName: String, Sendable, CaseIterable {
    case cloudflare, groq, huggingface, openai, ollama, offline
}

/// What a model is asked to do: plan a lesson, write a scene's code, or (the helper) read a
/// problem a third way so the offline solver's answer is held against it.
public enum ModelRole: String, Sendable, CaseIterable {
    case planner, scene, helper
}

/// One configured model provider.
public struct Provider: Sendable {
    public let name: ProviderName
    public let model: String
    let url: String
    let headers: [(String, String)]
    /// Cloudflare: the native /ai/run body and envelope (else the OpenAI shape).
    let native: Bool
    public let timeout: Double
    /// Enough for a whole scene (Cloudflare's default is 256, some Groq models' 1024).
    static let maxTokens = 4096

    /// The request for `messages`.
    func request(_ messages: [ChatMessage]) -> HTTPRequest {
        var body: JSONObject = ["messages": .array(messages.map(\.json)), "temperature": .double(0.2)]
        switch name {
        case .ollama:
            body["model"] = .string(model)
            body["stream"] = .bool(false)
            body["options"] = .object(["temperature": .double(0.2), "num_predict": .int(Int64(Provider.maxTokens)), "num_ctx": .int(8192)])
        case .cloudflare where native:
            body["max_tokens"] = .int(Int64(Provider.maxTokens))
        default:
            body["model"] = .string(model)
            body["max_tokens"] = .int(Int64(Provider.maxTokens))
            body["stream"] = .bool(false)
        }
        return HTTPRequest.json(url, .object(body), headers: headers, timeout: timeout)
    }

    /// The reply's text, or why there is none.
    func parse(_ r: HTTPResponse, now: Date = Date()) throws(ProviderFailure) -> Completion {
        guard (200..<300).contains(r.status) else { throw ProviderFailure.classify(r, provider: name, now: now) }
        guard !r.truncated, case .object(let o)? = r.json else {
            throw .malformed("the reply is not JSON: \(r.text.prefix(200))")
        }
        if name == .cloudflare, o["success"] == .bool(false) { throw ProviderFailure.classify(r, provider: name, now: now) }
        // Cloudflare's envelope holds either {response} or an OpenAI chat.completion.
        let body = name == .cloudflare ? (o["result"]?.objectValue ?? o) : o
        if let text = body["response"]?.stringValue { return Completion(text: text, finishReason: nil) }
        if name == .ollama, let message = body["message"]?.objectValue, let text = message["content"]?.stringValue {
            return Completion(text: text, finishReason: body["done_reason"]?.stringValue)
        }
        if case .array(let choices)? = body["choices"], let first = choices.first?.objectValue,
           let text = first["message"]?.objectValue?["content"]?.stringValue {
            return Completion(text: text, finishReason: first["finish_reason"]?.stringValue)
        }
        if let error = body["error"] { throw .malformed("an error inside a 2xx reply: \(error.serializedString.prefix(200))") }
        throw .malformed("no text in the reply: \(r.text.prefix(200))")
    }

    /// The same provider with another model (Cloudflare's native route names the model in its URL).
    public func using(model other: String) -> Provider {
        guard other != model else { return self }
        let route = native && url.hasSuffix("/run/" + model) ? String(url.dropLast(model.utf8.count)) + other : url
        return Provider(name: name, model: other, url: route, headers: headers, native: native, timeout: timeout)
    }

    /// Asks once; the reply's text, or a classified failure.
    public func complete(_ messages: [ChatMessage], via http: any HTTPTransport) async throws(ProviderFailure) -> Completion {
        let response: HTTPResponse
        do { response = try await http.send(request(messages)) } catch let e as HTTPFailure {
            switch e {
            case .timeout(let s): throw .timeout(s)
            case .connection(let s): throw .connection(s)
            }
        } catch { throw .connection("\(error)") }
        let c = try parse(response)
        if c.finishReason == "length" { throw .truncated }
        if c.text.trimmed().isEmpty { throw .malformed("the reply was empty") }
        return c
    }
}

extension JSONValue {
    var serializedString: String { String(decoding: serialized(pretty: false), as: UTF8.self) }
}

/// Which providers make the chain, from the keys of systemd/mathreel.env.example; offline always ends it.
public struct ProviderSettings: Sendable {
    public let chain: [ProviderName]
    public let providers: [ProviderName: Provider]
    /// MATHREEL_PLANNER_MODEL and MATHREEL_SCENE_MODEL (Config reads sf_backend's PLANNER_MODEL, SCENE_MODEL into them):
    /// `provider:model` names one provider's model; a bare model is the first model provider's.
    let roleModels: [ModelRole: (provider: ProviderName, model: String)]
    /// Names in MATHREEL_PROVIDERS that are not providers, or lack their keys.
    public let problems: [String]

    public init(environment env: [String: String]) {
        func value(_ key: String) -> String? { env[key].flatMap { $0.trimmed().isEmpty ? nil : $0.trimmed() } }
        /// A base URL without its trailing slashes, so paths can be appended.
        func trimmed(_ url: String) -> String {
            var u = url
            while u.hasSuffix("/") { u.removeLast() }
            return u
        }
        func base(_ name: ProviderName, _ fallback: String) -> String {
            trimmed(value("MATHREEL_\(name.rawValue.uppercased())_BASE_URL") ?? fallback)
        }
        func model(_ name: ProviderName, _ fallback: String) -> String { value("MATHREEL_\(name.rawValue.uppercased())_MODEL") ?? fallback }
        let timeout = Double(value("MATHREEL_PROVIDER_TIMEOUT_S") ?? "") ?? 90
        var providers: [ProviderName: Provider] = [:]
        if let account = value("CLOUDFLARE_ACCOUNT_ID"), let token = value("CLOUDFLARE_API_TOKEN") {
            let m = model(.cloudflare, "@cf/qwen/qwen2.5-coder-32b-instruct")
            let root = base(.cloudflare, "https://api.cloudflare.com") + "/client/v4/accounts/\(account)/ai"
            let native = (value("MATHREEL_CLOUDFLARE_API") ?? "native") != "openai"
            providers[.cloudflare] = Provider(name: .cloudflare, model: m, url: native ? root + "/run/" + m : root + "/v1/chat/completions",
                                              headers: [("Authorization", "Bearer \(token)")], native: native, timeout: timeout)
        }
        if let key = value("GROQ_API_KEY") {
            providers[.groq] = Provider(name: .groq, model: model(.groq, "llama-3.3-70b-versatile"),
                                        url: base(.groq, "https://api.groq.com") + "/openai/v1/chat/completions",
                                        headers: [("Authorization", "Bearer \(key)")], native: false, timeout: timeout)
        }
        if let key = value("HF_TOKEN") {
            providers[.huggingface] = Provider(name: .huggingface, model: model(.huggingface, "Qwen/Qwen2.5-Coder-32B-Instruct"),
                                               url: base(.huggingface, "https://router.huggingface.co") + "/v1/chat/completions",
                                               headers: [("Authorization", "Bearer \(key)")], native: false, timeout: timeout)
        }
        if let key = value("OPENAI_API_KEY") {
            let b = value("MATHREEL_OPENAI_BASE_URL") ?? value("OPENAI_BASE_URL") ?? "https://api.openai.com/v1"
            providers[.openai] = Provider(name: .openai, model: model(.openai, "gpt-4o-mini"),
                                          url: trimmed(b) + "/chat/completions",
                                          headers: [("Authorization", "Bearer \(key)")], native: false, timeout: timeout)
        }
        if let url = value("MATHREEL_OLLAMA_BASE_URL") ?? value("OLLAMA_URL") {
            providers[.ollama] = Provider(name: .ollama, model: model(.ollama, "qwen2.5-coder:7b"),
                                          url: trimmed(url) + "/api/chat",
                                          headers: [], native: false, timeout: Double(value("MATHREEL_OLLAMA_TIMEOUT_S") ?? "") ?? 600)
        }
        var chain: [ProviderName] = []
        var problems: [String] = []
        if let list = value("MATHREEL_PROVIDERS") {
            for raw in list.split(separator: ",").map({ String($0).trimmed().lowercased() }) where !raw.isEmpty {
                guard let name = ProviderName(rawValue: raw) else { problems.append("'\(raw)' is not a provider"); continue }
                guard name == .offline || providers[name] != nil else { problems.append("\(raw) has no key or URL set"); continue }
                if !chain.contains(name) { chain.append(name) }
            }
        } else {
            chain = ProviderName.allCases.filter { providers[$0] != nil }
        }
        if !chain.contains(.offline) { chain.append(.offline) }
        var roles: [ModelRole: (ProviderName, String)] = [:]
        for role in ModelRole.allCases {
            let key = "MATHREEL_\(role.rawValue.uppercased())_MODEL"
            guard let raw = value(key) else { continue }  // Config copied sf_backend's unprefixed name here
            let parts = raw.split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2, let named = ProviderName(rawValue: parts[0].lowercased()) {
                guard named != .offline, providers[named] != nil else { problems.append("\(key) names \(parts[0]), which has no key or URL set"); continue }
                roles[role] = (named, parts[1])
            } else if let first = chain.first(where: { $0 != .offline }) {
                roles[role] = (first, raw)  // Ollama's `qwen2.5-coder:7b` has a colon too: no provider prefix, the whole name
            }
        }
        self.chain = chain
        self.providers = providers
        self.problems = problems
        roleModels = roles
    }

    /// The helper model (MATHREEL_HELPER_MODEL), only when one is set: it costs a call per problem.
    public var helper: Provider? {
        guard let r = roleModels[.helper] else { return nil }
        return provider(r.provider, for: .helper)
    }

    /// The provider `name` as it serves `role`: with the role's model when one is set for it.
    public func provider(_ name: ProviderName, for role: ModelRole) -> Provider? {
        guard let p = providers[name] else { return nil }
        if let r = roleModels[role], r.provider == name { return p.using(model: r.model) }
        return p
    }
}
