// swift-tools-version:6.1
// mathreel: five daemons and a command over shared spool, job and daemon libraries.
import PackageDescription

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

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
        // Shared libraries: everything two daemons need lives here, once.
        .target(name: "CMathreel", path: "Shared/CMathreel"),
        .target(name: "MathreelCore", path: "Shared/Core", swiftSettings: swiftSettings),
        .target(
            name: "MathreelSpool",
            dependencies: ["CMathreel", "MathreelCore", .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Shared/Spool", swiftSettings: swiftSettings),
        .target(
            name: "MathreelDaemon",
            dependencies: [
                "CMathreel", "MathreelCore", "MathreelSpool",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Shared/Daemon", swiftSettings: swiftSettings),

        .target(name: "MathreelCheck", dependencies: ["MathreelDaemon"], path: "Shared/Check", resources: [.embedInCode("checker.py")], swiftSettings: swiftSettings),
        .target(name: "CCurl", path: "Shared/CCurl", linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(name: "CSQLite", path: "Shared/CSQLite"),
        .target(name: "MathreelSQLite", dependencies: ["CSQLite", "MathreelCore"], path: "Shared/SQLite", swiftSettings: swiftSettings),
        .target(name: "MathreelHTTP", dependencies: ["CCurl", "MathreelSpool"], path: "Shared/HTTP", swiftSettings: swiftSettings),
        .target(name: "MathreelChat", dependencies: ["MathreelHTTP"], path: "Shared/Chat", swiftSettings: swiftSettings),
        .target(name: "MathreelWeb", dependencies: ["MathreelDaemon", .product(name: "Hummingbird", package: "hummingbird"),
                                                    .product(name: "HummingbirdCore", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio")],
                path: "Shared/Web", swiftSettings: swiftSettings),
        .target(name: "MathreelSessions", dependencies: ["MathreelSQLite", "MathreelSpool"], path: "Shared/Sessions", swiftSettings: swiftSettings),

        // Daemons: a library that tests import, and a thin executable over it.
        .target(name: "IngestService", dependencies: ["MathreelDaemon", "MathreelChat", "MathreelSessions", "MathreelCheck", "MathreelWeb"], path: "Services/Ingest/Library",
                resources: [.embedInCode("web_page.html"), .embedInCode("app.js")], swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-ingest", dependencies: ["IngestService", .product(name: "ArgumentParser", package: "swift-argument-parser")], path: "Services/Ingest/Main", swiftSettings: swiftSettings),
        .target(name: "JanitorService", dependencies: ["MathreelDaemon", "MathreelSessions"], path: "Services/Janitor/Library", swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-janitor", dependencies: ["JanitorService", .product(name: "ArgumentParser", package: "swift-argument-parser")], path: "Services/Janitor/Main", swiftSettings: swiftSettings),

        .target(name: "RenderService", dependencies: ["MathreelDaemon", "MathreelCheck"], path: "Services/Renderer/Library", resources: [.embedInCode("runner.py")], swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-render", dependencies: ["RenderService", .product(name: "ArgumentParser", package: "swift-argument-parser")], path: "Services/Renderer/Main", swiftSettings: swiftSettings),

        .target(name: "CodegenService", dependencies: ["MathreelDaemon", "MathreelCheck", "MathreelHTTP", "MathreelSQLite"], path: "Services/Codegen/Library",
                resources: [.embedInCode("solver.py"), .embedInCode("indexer.py")], swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-codegen", dependencies: ["CodegenService", .product(name: "ArgumentParser", package: "swift-argument-parser")], path: "Services/Codegen/Main", swiftSettings: swiftSettings),

        .target(name: "DeliverService", dependencies: ["MathreelDaemon", "MathreelChat", "MathreelSQLite", "MathreelWeb"],
                path: "Services/Deliver/Library", swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-deliver", dependencies: ["DeliverService", .product(name: "ArgumentParser", package: "swift-argument-parser")], path: "Services/Deliver/Main", swiftSettings: swiftSettings),

        // The `mathreel` command.
        .target(name: "MathreelCommand", dependencies: ["MathreelDaemon", "RenderService", "CodegenService", .product(name: "ArgumentParser", package: "swift-argument-parser")], path: "Services/CLI/Library", swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel", dependencies: ["MathreelCommand"], path: "Services/CLI/Main", swiftSettings: swiftSettings),

        // A chain of no-op stages over the real worker loop, for crash tests and benchmarks.
        .executableTarget(name: "mathreel-testworker", dependencies: ["MathreelDaemon", .product(name: "ArgumentParser", package: "swift-argument-parser")], path: "Tests/TestWorker", swiftSettings: swiftSettings),
        .executableTarget(name: "mathreel-bench", dependencies: ["MathreelDaemon", "MathreelHTTP", "TestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")], path: "Benchmarks/Bench", swiftSettings: swiftSettings),

        .target(name: "TestSupport", dependencies: ["MathreelDaemon"], path: "Tests/Support", swiftSettings: swiftSettings),
        .testTarget(name: "CoreTests", dependencies: ["MathreelCore", "TestSupport"], path: "Tests/CoreTests", swiftSettings: swiftSettings),
        .testTarget(name: "SpoolTests", dependencies: ["TestSupport", "MathreelSpool", "MathreelDaemon"], path: "Tests/SpoolTests", swiftSettings: swiftSettings),
        .testTarget(name: "IngestTests", dependencies: ["TestSupport", "IngestService", "MathreelHTTP", "MathreelSessions"], path: "Tests/IngestTests", swiftSettings: swiftSettings),
        .testTarget(name: "JanitorTests", dependencies: ["TestSupport", "JanitorService", "MathreelSessions"], path: "Tests/JanitorTests", swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "MathreelCommand"], path: "Tests/CLITests", swiftSettings: swiftSettings),
        .testTarget(name: "CheckTests", dependencies: ["TestSupport", "MathreelCheck"], path: "Tests/CheckTests", swiftSettings: swiftSettings),
        .testTarget(name: "CodegenTests", dependencies: ["TestSupport", "CodegenService"], path: "Tests/CodegenTests", swiftSettings: swiftSettings),
        .testTarget(name: "RenderTests", dependencies: ["TestSupport", "RenderService"], path: "Tests/RenderTests", swiftSettings: swiftSettings),
        .testTarget(name: "DeliverTests", dependencies: ["TestSupport", "DeliverService", "MathreelHTTP", "MathreelChat"], path: "Tests/DeliverTests", swiftSettings: swiftSettings),
        .testTarget(name: "SystemTests", dependencies: ["TestSupport", "MathreelDaemon"], path: "Tests/SystemTests", swiftSettings: swiftSettings),
    ]
)
