// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "triton",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "triton", targets: ["triton"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.0"),
    ],
    targets: [
        // JSON as a tree: one parser, one serializer, typed views; used by the Kubernetes client, the
        // simulated cluster, the CloneSet mapping and the APIs.
        .target(name: "TritonJSON", swiftSettings: swiftSettings),
        // Pure domain: the DeployFlow decider and batch planner. No I/O, no clock.
        .target(name: "TritonDomain", swiftSettings: swiftSettings),
        // Event store abstractions: stream ids, versions, recorded events, the hash chain.
        .target(name: "EventStore", swiftSettings: swiftSettings),
        // Seals: the RFC 6962 Merkle tree over the log, inclusion and consistency proofs, signed checkpoints (Ed25519).
        .target(
            name: "TritonSeals", dependencies: ["EventStore", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: swiftSettings
        ),
        // The audit over the log in PostgreSQL: the sealer and the database verifier of the seals.
        .target(
            name: "TritonAudit", dependencies: ["EventStore", "PostgresStore", "TritonSeals", "TritonJSON", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // The PostgreSQL event log over libpq.
        .target(
            name: "PostgresStore",
            dependencies: [
                "EventStore", "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.process("Migrations")],
            swiftSettings: swiftSettings
        ),
        // The engine: command handling over the log (projectors, executor, observer, timers to come).
        .target(
            name: "TritonEngine",
            dependencies: ["TritonDomain", "EventStore"],
            swiftSettings: swiftSettings
        ),
        // Projections of the log into PostgreSQL query tables (flows, batches, pods, instances).
        .target(
            name: "TritonProjections",
            dependencies: ["TritonDomain", "EventStore", "PostgresStore", "TritonEngine"],
            swiftSettings: swiftSettings
        ),
        // Compliance records and period reports from the log (HTML, and PDF through headless Chromium).
        .target(
            name: "TritonReports",
            dependencies: ["TritonDomain", "EventStore", "PostgresStore", "TritonEngine", "TritonProjections", "TritonAudit", "TritonSeals"],
            swiftSettings: swiftSettings
        ),
        // The simulated cluster: a Kubernetes-compatible API server with CloneSet and pod behaviour.
        .target(
            name: "KubeSim",
            dependencies: [
                "TritonJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // The Kubernetes API client over libcurl: kubeconfig, TLS, typed resources, patches, watches.
        .target(
            name: "KubeClient",
            dependencies: ["CCurl", "TritonJSON", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The one CloneSet mapping (objects, template, patches, reading workloads and pods) both ports use.
        .target(
            name: "TritonKubeMapping",
            dependencies: ["TritonEngine", "TritonDomain", "TritonJSON"],
            swiftSettings: swiftSettings
        ),
        // The cluster port implemented on the in-process simulated cluster.
        .target(
            name: "TritonSimAdapter",
            dependencies: ["TritonEngine", "TritonDomain", "TritonJSON", "TritonKubeMapping", "KubeSim"],
            swiftSettings: swiftSettings
        ),
        // The cluster port implemented over a Kubernetes API server, through KubeClient.
        .target(
            name: "TritonKubeAdapter",
            dependencies: ["TritonEngine", "TritonDomain", "TritonJSON", "TritonKubeMapping", "KubeClient"],
            swiftSettings: swiftSettings
        ),
        // Generated by ops/grpc-gen.sh from Sources/TritonGRPC/Protos (committed; CI builds no generator).
        .target(
            name: "TritonGRPC",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Protos"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .target(
            name: "TritonAPI",
            dependencies: [
                "TritonDomain", "EventStore", "TritonAudit", "TritonSeals", "PostgresStore", "TritonEngine", "TritonProjections", "TritonReports", "TritonJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                "TritonGRPC",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("openapi.json"), .copy("UI")],
            swiftSettings: swiftSettings
        ),
        // The server as a library: a Configuration that `serve` fills, and the runner, projector, store
        // wake-ups, watch cache, simulated cluster and both APIs as services of one service group.
        .target(
            name: "TritonServer",
            dependencies: [
                "EventStore", "PostgresStore", "TritonAudit", "TritonSeals", "TritonDomain", "TritonEngine", "TritonProjections", "TritonJSON", "KubeSim",
                "TritonSimAdapter", "KubeClient", "TritonKubeAdapter", "TritonAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The benchmarks behind `triton bench store|sim|engine`: each measures and returns a report.
        .target(
            name: "TritonBenchmarks",
            dependencies: [
                "EventStore", "PostgresStore", "TritonDomain", "TritonEngine", "TritonProjections", "TritonJSON", "KubeSim",
                "TritonSimAdapter", "TritonAudit", "TritonSeals", "TritonReports", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command line: `serve` (through TritonServer), the flow and instance commands, operator tools.
        .executableTarget(
            name: "triton",
            dependencies: [
                "TritonDomain", "EventStore", "PostgresStore", "TritonEngine", "TritonProjections", "KubeSim", "TritonSimAdapter",
                "KubeClient", "TritonKubeAdapter", "TritonAPI", "TritonJSON", "TritonServer", "TritonBenchmarks", "TritonAudit", "TritonSeals", "TritonReports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the tests share: the test database, the engine harness on the simulated cluster, fixtures.
        .target(
            name: "TritonTesting",
            dependencies: [
                "EventStore", "PostgresStore", "TritonDomain", "TritonEngine", "TritonJSON", "TritonKubeMapping", "KubeSim",
                "TritonSimAdapter",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TritonDomainTests", dependencies: ["TritonDomain"], swiftSettings: swiftSettings),
        .testTarget(name: "EventStoreTests", dependencies: ["EventStore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TritonAuditTests", dependencies: ["TritonAudit", "TritonSeals", "EventStore", "PostgresStore", "TritonTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TritonSealsTests", dependencies: ["TritonSeals", "EventStore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KubeSimTests",
            dependencies: ["KubeSim", "TritonJSON", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TritonProjectionsTests",
            dependencies: ["TritonProjections", "TritonTesting", "TritonEngine", "TritonDomain", "PostgresStore", "EventStore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KubeClientTests",
            dependencies: ["KubeClient", "KubeSim", "TritonJSON"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TritonKubeAdapterTests",
            dependencies: [
                "TritonKubeAdapter", "TritonSimAdapter", "TritonKubeMapping", "TritonEngine", "TritonDomain", "KubeClient", "KubeSim", "TritonJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TritonEngineTests",
            dependencies: ["TritonEngine", "TritonTesting", "TritonSimAdapter", "TritonKubeMapping", "TritonDomain", "EventStore", "PostgresStore", "KubeSim", "TritonJSON"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TritonCLITests",
            dependencies: ["PostgresStore", "EventStore", "KubeSim", "KubeClient", "TritonJSON", "TritonTesting", "triton"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TritonAPITests",
            dependencies: [
                "TritonAPI", "TritonEngine", "TritonTesting", "TritonSimAdapter", "TritonDomain", "EventStore", "PostgresStore", "KubeSim", "TritonProjections", "TritonJSON", "TritonAudit", "TritonSeals", "TritonReports",
                "TritonGRPC", "KubeClient",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresStoreTests",
            dependencies: ["PostgresStore", "EventStore", "TritonTesting"],
            swiftSettings: swiftSettings
        ),
    ]
)
