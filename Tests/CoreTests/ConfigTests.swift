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
        // Once read where they were used, and a bad value fell back to the default in silence.
        ("MATHREEL_MAX_CONCURRENT_RENDERS", "two", "MATHREEL_MAX_CONCURRENT_RENDERS must be a whole number, from 1 to 256; got 'two'"),
        ("MATHREEL_WARM_WORKERS", "-1", "MATHREEL_WARM_WORKERS must be a whole number, from 0 to 256; got '-1'"),
        ("MATHREEL_CODEGEN_CONCURRENCY", "0", "MATHREEL_CODEGEN_CONCURRENCY must be a whole number, from 1 to 64; got '0'"),
        ("MATHREEL_RENDER_NICE", "20", "MATHREEL_RENDER_NICE must be a whole number, from 0 to 19; got '20'"),
        ("MATHREEL_MAX_SCENE_CONCURRENCY", "9", "MATHREEL_MAX_SCENE_CONCURRENCY must be a whole number, from 1 to 8; got '9'"),
        // sf_backend's names are refused under the name that was set.
        ("MAX_SCENE_CONCURRENCY", "0", "MAX_SCENE_CONCURRENCY must be a whole number, from 1 to 8; got '0'"),
        ("DEFAULT_QUALITY", "4k", "DEFAULT_QUALITY must be one of low, medium, high; got '4k'"),
        ("MATHREEL_LOG_LEVEL", "verbose", "MATHREEL_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical; got 'verbose'"),
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
        let stages = try Config(environment: ["MATHREEL_MAX_CONCURRENT_RENDERS": "3", "MATHREEL_WARM_WORKERS": "0", "MATHREEL_CODEGEN_CONCURRENCY": "8",
                                              "MATHREEL_RENDER_NICE": "10", "MATHREEL_LOG_LEVEL": "debug"])
        #expect(stages.maxConcurrentRenders == 3 && stages.warmWorkers == 0 && stages.codegenConcurrency == 8 && stages.renderNice == 10 && stages.logLevel == "debug")
        // sf_backend's names are read when the MATHREEL_ form is unset, and only then.
        let borrowed = try Config(environment: ["MAX_SCENE_CONCURRENCY": "2", "MAX_CONCURRENT_RENDERS": "5", "DEFAULT_QUALITY": "high",
                                                "PLANNER_MODEL": "llama-3.3-70b", "MATHREEL_SCENE_MODEL": "mine", "SCENE_MODEL": "theirs"])
        #expect(borrowed.maxSceneConcurrency == 2 && borrowed.maxConcurrentRenders == 5 && borrowed.defaultQuality == .high)
        #expect(borrowed.environment["MATHREEL_PLANNER_MODEL"] == "llama-3.3-70b" && borrowed.environment["MATHREEL_SCENE_MODEL"] == "mine")
        #expect(try Config(environment: ["USE_RAG": "false"]).useRAG == false && (try Config(environment: [:])).useRAG)
        let both = try Config(environment: ["MATHREEL_MAX_SCENE_CONCURRENCY": "3", "MAX_SCENE_CONCURRENCY": "7"])
        #expect(both.maxSceneConcurrency == 3)
        let defaults = try Config(environment: [:])
        #expect(defaults.maxSceneConcurrency == 4)
        #expect(defaults.maxConcurrentRenders == nil && defaults.warmWorkers == nil && defaults.codegenConcurrency == 4 && defaults.renderNice == 0)
    }
}
