// Metrics: ingest's counters and latency histograms in Prometheus text format
// (GET /metrics). Small and lock-protected: a registry package would bring more
// code and memory than these few series need.
import MathreelCore
import Synchronization

public final class Metrics: Sendable {
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    struct Histogram { var counts = [Int](repeating: 0, count: Metrics.buckets.count); var sum = 0.0; var count = 0 }
    struct State {
        var requests: [String: Int] = [:]          // route|status
        var accepted: [String: Int] = [:]          // channel
        var rejected: [String: Int] = [:]          // reason
        var latency: [String: Histogram] = [:]     // route
    }
    private let state = Mutex(State())

    public init() {}

    public func request(route: String, status: Int, seconds: Double) {
        state.withLock { s in
            s.requests["\(route)|\(status)", default: 0] += 1
            var h = s.latency[route] ?? Histogram()
            for (i, b) in Metrics.buckets.enumerated() where seconds <= b { h.counts[i] += 1 }
            h.sum += seconds; h.count += 1
            s.latency[route] = h
        }
    }

    public func accepted(_ channel: Channel) { state.withLock { $0.accepted[channel.rawValue, default: 0] += 1 } }
    public func rejected(_ reason: String) { state.withLock { $0.rejected[reason, default: 0] += 1 } }

    public func text() -> String {
        let s = state.withLock { $0 }
        var out = "# HELP mathreel_ingest_requests_total HTTP requests by route and status.\n# TYPE mathreel_ingest_requests_total counter\n"
        for (k, v) in s.requests.sorted(by: { $0.key < $1.key }) {
            let parts = k.split(separator: "|", maxSplits: 1)
            out += "mathreel_ingest_requests_total{route=\"\(parts[0])\",status=\"\(parts.count > 1 ? parts[1] : "")\"} \(v)\n"
        }
        out += "# HELP mathreel_ingest_jobs_accepted_total Jobs accepted by channel.\n# TYPE mathreel_ingest_jobs_accepted_total counter\n"
        for (k, v) in s.accepted.sorted(by: { $0.key < $1.key }) { out += "mathreel_ingest_jobs_accepted_total{channel=\"\(k)\"} \(v)\n" }
        out += "# HELP mathreel_ingest_rejections_total Requests refused, by reason.\n# TYPE mathreel_ingest_rejections_total counter\n"
        for (k, v) in s.rejected.sorted(by: { $0.key < $1.key }) { out += "mathreel_ingest_rejections_total{reason=\"\(k)\"} \(v)\n" }
        out += "# HELP mathreel_ingest_request_seconds Time to answer, by route.\n# TYPE mathreel_ingest_request_seconds histogram\n"
        for (route, h) in s.latency.sorted(by: { $0.key < $1.key }) {
            for (i, b) in Metrics.buckets.enumerated() { out += "mathreel_ingest_request_seconds_bucket{route=\"\(route)\",le=\"\(b)\"} \(h.counts[i])\n" }
            out += "mathreel_ingest_request_seconds_bucket{route=\"\(route)\",le=\"+Inf\"} \(h.count)\n"
            out += "mathreel_ingest_request_seconds_sum{route=\"\(route)\"} \(h.sum)\nmathreel_ingest_request_seconds_count{route=\"\(route)\"} \(h.count)\n"
        }
        return out
    }
}
