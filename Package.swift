// swift-tools-version:6.1
// mathreel: five daemons and a command over shared spool, job and daemon libraries.
import PackageDescription

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

// Every target names each module it imports (scripts/check_imports.py holds it in make test).
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let signals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")
let arguments = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let hummingbirdCore = Target.Dependency.product(name: "HummingbirdCore", package: "hummingbird")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
/// What every daemon's thin executable imports.
let daemonMain: [Target.Dependency] = ["MathreelDaemon", arguments]

let package = Package(
    name: "mathreel",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mathreel", targets: ["mathreel"]),
        .executable(name: "mathreel-ingest", targets: ["mathreel-ingest"]),
        .executable(name: "mathreel-janitor", targets: ["mathreel-janitor"]),
        .executable(name: "mathreel-render", targets: ["mathreel-render"]),
        .executable(name: "mathreel-codegen", targets: ["mathreel-codegen"]),
        .executable(name: "mathreel-deliver", targets: ["mathreel-deliver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // No default traits: "FullFoundation" links libFoundation and ICU (about 8 MB resident
        // per web daemon) for date-formatted URL-encoded forms, which we never decode.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // Shared libraries: everything two daemons need lives here, once. Each layer
        // imports only those above it in this list.
        .target(name: "CMathreel", path: "Shared/CMathreel"),
        .target(name: "MathreelCore", path: "Shared/Core", swiftSettings: swiftSettings),
        // Below the spool: threads for blocking calls, raw file calls, plain files never through a link.
        .target(name: "MathreelSystem", dependencies: ["CMathreel", "MathreelCore"], path: "Shared/System", swiftSettings: swiftSettings),
        .target(name: "MathreelSpool", dependencies: ["CMathreel", "MathreelCore", "MathreelSystem", logging, lifecycle],
                path: "Shared/Spool", swiftSettings: swiftSettings),
        .target(name: "MathreelDaemon", dependencies: ["CMathreel", "MathreelCore", "MathreelSystem", "MathreelSpool", logging, lifecycle, signals, arguments],
                path: "Shared/Daemon", swiftSettings: swiftSettings),
        .target(name: "MathreelCheck", dependencies: ["MathreelCore", "MathreelDaemon"], path: "Shared/Check",
                resources: [.embedInCode("checker.py")], swiftSettings: swiftSettings),
        .target(name: "CCurl", path: "Shared/CCurl", linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(name: "CSQLite", path: "Shared/CSQLite"),
        .target(name: "MathreelSQLite", dependencies: ["CSQLite", "MathreelCore"], path: "Shared/SQLite", swiftSettings: swiftSettings),
        .target(name: "MathreelHTTP", dependencies: ["CCurl", "MathreelCore", "MathreelSystem"], path: "Shared/HTTP", swiftSettings: swiftSettings),
        .target(name: "MathreelChat", dependencies: ["MathreelCore", "MathreelHTTP"], path: "Shared/Chat", swiftSettings: swiftSettings),
        .target(name: "MathreelWeb", dependencies: ["MathreelCore", "MathreelDaemon", logging, hummingbird, hummingbirdCore, nioCore],
                path: "Shared/Web", swiftSettings: swiftSettings),
        // The render sandbox (bubblewrap, seccomp, limits) and its runner: render's, and the doctor's checks of it.
        .target(name: "MathreelSandbox", dependencies: ["CMathreel", "MathreelCore", "MathreelSystem", "MathreelDaemon"], path: "Shared/Sandbox",
                resources: [.embedInCode("runner.py")], swiftSettings: swiftSettings),
        // Speech (speak.py in the sandbox), the narration track and the captions: render's, and the doctor's checks of the engines.
        .target(name: "MathreelVoice", dependencies: ["MathreelCore", "MathreelSystem", "MathreelDaemon", "MathreelSandbox"], path: "Shared/Voice",
                resources: [.embedInCode("speak.py")], swiftSettings: swiftSettings),
        // The code-writing providers' adapters, failures and breakers: codegen's, and the doctor's report of them.
        .target(name: "MathreelProviders", dependencies: ["MathreelCore", "MathreelSystem", "MathreelHTTP"], path: "Shared/Providers", swiftSettings: swiftSettings),
        // The offline solver: the `solver` Python package (one module per family, one scene template) as a warm worker.
        .target(name: "MathreelSolver", dependencies: ["MathreelCore", "MathreelDaemon"], path: "Shared/Solver",
                resources: ["__init__", "base", "checks", "curves", "dispatch", "family_algebra", "family_derivatives", "family_determinants", "family_equations", "family_fractions", "family_geometry", "family_integrals", "family_limits", "family_plots", "family_series", "family_systems", "helpers", "lesson", "printing", "reading", "reading_expr", "scene", "text", "worker"].map { .embedInCode("solver/\($0).py") } + [.embedInCode("solver_main.py")],
                swiftSettings: swiftSettings),
        .target(name: "MathreelSessions", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSQLite"], path: "Shared/Sessions", swiftSettings: swiftSettings),

        // Daemons: a library that tests import, and a thin executable over it.
        .target(name: "IngestService", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", "MathreelChat", "MathreelSessions",
                                                      "MathreelCheck", "MathreelWeb", "MathreelProviders", logging, hummingbird],
                path: "Services/Ingest/Library", resources: [.embedInCode("web_page.html"), .embedInCode("app.js")], swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-ingest", dependencies: daemonMain + ["IngestService"], path: "Services/Ingest/Main", swiftSettings: swiftSettings),
        .target(name: "JanitorService", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", "MathreelSessions", logging, lifecycle],
                path: "Services/Janitor/Library", swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-janitor", dependencies: daemonMain + ["JanitorService"], path: "Services/Janitor/Main", swiftSettings: swiftSettings),
        .target(name: "RenderService", dependencies: ["CMathreel", "MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", "MathreelCheck",
                                                      "MathreelSandbox", "MathreelVoice", logging],
                path: "Services/Render/Library", resources: [.embedInCode("slate.py")], swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-render", dependencies: daemonMain + ["RenderService"], path: "Services/Render/Main", swiftSettings: swiftSettings),
        .target(name: "CodegenService", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", "MathreelCheck", "MathreelHTTP",
                                                       "MathreelSQLite", "MathreelProviders", "MathreelSolver", logging],
                path: "Services/Codegen/Library", resources: [.embedInCode("indexer.py"), .embedInCode("offline_edit.py")] + ["system_prompt.md", "planner_prompt.md", "scene_prompt.md", "reading_prompt.md", "example_linear.py", "example_graph.py"].map { .embedInCode("prompt/\($0)") }, swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-codegen", dependencies: daemonMain + ["CodegenService"], path: "Services/Codegen/Main", swiftSettings: swiftSettings),
        .target(name: "DeliverService", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", "MathreelHTTP", "MathreelChat",
                                                       "MathreelSQLite", "MathreelWeb", logging, lifecycle, hummingbird, nioCore, nioPosix],
                path: "Services/Deliver/Library",
                resources: ["page", "watch", "gone_expired", "gone_watched", "not_found", "broken"].map { .embedInCode("pages/\($0).html") },
                swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-deliver", dependencies: daemonMain + ["DeliverService"], path: "Services/Deliver/Main", swiftSettings: swiftSettings),

        // The `mathreel` command.
        .target(name: "MathreelCommand", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", "MathreelCheck", "MathreelSandbox", "MathreelProviders", "MathreelSolver", "MathreelVoice",
                                                        logging, signals, arguments],
                path: "Services/CLI/Library", swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel", dependencies: ["MathreelCommand"], path: "Services/CLI/Main", swiftSettings: swiftSettings),

        // What the tests and the benchmark share: fixtures, fakes, and a chain of no-op stages over the real worker loop.
        .target(name: "TestSupport", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", logging], path: "Tests/Support", swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-testworker", dependencies: daemonMain + ["MathreelSpool", "TestSupport", logging], path: "Tests/TestWorker", swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-bench", dependencies: daemonMain + ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelHTTP", "TestSupport", logging],
                          path: "Benchmarks/Bench", swiftSettings: swiftSettings),

        .testTarget(name: "CoreTests", dependencies: ["MathreelCore", "TestSupport"], path: "Tests/CoreTests", swiftSettings: swiftSettings),
        .testTarget(name: "SpoolTests", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", "TestSupport", logging],
                    path: "Tests/SpoolTests", swiftSettings: swiftSettings),
        .testTarget(name: "IngestTests", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", "MathreelHTTP", "MathreelSQLite",
                                                        "MathreelSessions", "IngestService", "TestSupport"],
                    path: "Tests/IngestTests", swiftSettings: swiftSettings),
        .testTarget(name: "JanitorTests", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", "MathreelSessions", "JanitorService",
                                                         "TestSupport", logging],
                    path: "Tests/JanitorTests", swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", "MathreelCommand", "TestSupport"],
                    path: "Tests/CLITests", swiftSettings: swiftSettings),
        .testTarget(name: "CheckTests", dependencies: ["MathreelCore", "MathreelCheck", "TestSupport"], path: "Tests/CheckTests", swiftSettings: swiftSettings),
        .testTarget(name: "CodegenTests", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", "MathreelCheck", "MathreelHTTP",
                                                         "MathreelProviders", "MathreelSolver", "CodegenService", "TestSupport"],
                    path: "Tests/CodegenTests", swiftSettings: swiftSettings),
        .testTarget(name: "RenderTests", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelDaemon", "MathreelSandbox", "MathreelCheck", "RenderService", "TestSupport", logging],
                    path: "Tests/RenderTests", swiftSettings: swiftSettings),
        .testTarget(name: "DeliverTests", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSpool", "MathreelHTTP", "MathreelChat", "DeliverService",
                                                         "TestSupport"],
                    path: "Tests/DeliverTests", swiftSettings: swiftSettings),
        .testTarget(name: "VoiceTests", dependencies: ["MathreelCore", "MathreelSystem", "MathreelSandbox", "MathreelVoice", "TestSupport"],
                    path: "Tests/VoiceTests", swiftSettings: swiftSettings),
        .testTarget(name: "SystemTests", dependencies: ["MathreelDaemon", "TestSupport"], path: "Tests/SystemTests", swiftSettings: swiftSettings),
    ]
)
