// Settings a person gets wrong are refused with the key, what is allowed and
// what was given; good ones are read.
import MathreelCore
import Testing

@Suite struct ConfigTests {
    @Test(arguments: [
        ("MATHREEL_MIN_FREE_BYTES", "-1", "MATHREEL_MIN_FREE_BYTES must be a whole number of bytes, 0 or more; got '-1'"),
        ("MATHREEL_MAX_REPAIRS", "11", "MATHREEL_MAX_REPAIRS must be a whole number, from 0 to 10; got '11'"),
        ("MATHREEL_RATE_LIMIT_BURST", "many", "MATHREEL_RATE_LIMIT_BURST must be a whole number, from 1 to 10000; got 'many'"),
        ("MATHREEL_INGEST_ADDR", "8080", "MATHREEL_INGEST_ADDR must be host:port, like 127.0.0.1:8080; got '8080'"),
    ])
    func aWrongNumberOrAddressSaysWhatIsAllowed(_ key: String, _ value: String, _ message: String) {
        #expect(throws: ConfigError.self) { try Config(environment: [key: value]) }
        do { _ = try Config(environment: [key: value]) } catch { #expect("\(error)" == message) }
    }

    @Test func goodSettingsAreRead() throws {
        let c = try Config(environment: ["MATHREEL_MIN_FREE_BYTES": "0", "MATHREEL_RATE_LIMIT_PER_HOUR": "60", "MATHREEL_RATE_LIMIT_BURST": "3",
                                         "MATHREEL_MAX_QUEUED": "50", "MATHREEL_INGEST_ADDR": "0.0.0.0:9000", "MATHREEL_STATE": "/srv/m"])
        #expect(c.minFreeBytes == 0 && c.rateLimitPerHour == 60 && c.rateLimitBurst == 3 && c.maxQueued == 50)
        #expect(c.ingestAddress == ListenAddress(host: "0.0.0.0", port: 9000))
        #expect(c.videosPath == "/srv/m/videos")
    }
}
