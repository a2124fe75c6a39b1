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
    ],
    targets: [
        // Pure domain: the DeployFlow decider and batch planner. No I/O, no clock.
        .target(name: "TritonDomain", swiftSettings: swiftSettings),
        // Event store abstractions: stream ids, versions, recorded events, the hash chain.
        .target(name: "EventStore", swiftSettings: swiftSettings),
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
        // A stand-in cluster and release driver for the demo and tests (until the engine drives the sim).
        .target(
            name: "TritonDemo",
            dependencies: ["TritonDomain", "EventStore", "TritonEngine"],
            swiftSettings: swiftSettings
        ),
        // The simulated cluster: a Kubernetes-compatible API server with CloneSet and pod behaviour.
        .target(
            name: "KubeSim",
            dependencies: [
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
            dependencies: ["CCurl", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The cluster port implemented on the in-process simulated cluster.
        .target(
            name: "TritonSimAdapter",
            dependencies: ["TritonEngine", "TritonDomain", "KubeSim"],
            swiftSettings: swiftSettings
        ),
        // The cluster port implemented over a Kubernetes API server, through KubeClient.
        .target(
            name: "TritonKubeAdapter",
            dependencies: ["TritonEngine", "TritonDomain", "KubeClient"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TritonAPI",
            dependencies: [
                "TritonDomain", "EventStore", "PostgresStore", "TritonEngine", "TritonProjections",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("openapi.json")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "triton",
            dependencies: [
                "TritonDomain", "EventStore", "PostgresStore", "TritonEngine", "TritonProjections", "TritonDemo", "KubeSim", "TritonSimAdapter", "KubeClient", "TritonKubeAdapter", "TritonAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TritonDomainTests", dependencies: ["TritonDomain"], swiftSettings: swiftSettings),
        .testTarget(name: "EventStoreTests", dependencies: ["EventStore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "KubeSimTests",
            dependencies: ["KubeSim", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TritonProjectionsTests",
            dependencies: ["TritonProjections", "TritonDemo", "TritonEngine", "TritonDomain", "PostgresStore", "EventStore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KubeClientTests",
            dependencies: ["KubeClient", "KubeSim"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TritonKubeAdapterTests",
            dependencies: [
                "TritonKubeAdapter", "TritonSimAdapter", "TritonEngine", "TritonDomain", "KubeClient", "KubeSim",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TritonEngineTests",
            dependencies: ["TritonEngine", "TritonSimAdapter", "TritonDomain", "EventStore", "PostgresStore", "KubeSim"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TritonCLITests",
            dependencies: ["PostgresStore", "EventStore", "KubeSim", "KubeClient", "triton"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TritonAPITests",
            dependencies: [
                "TritonAPI", "TritonEngine", "TritonSimAdapter", "TritonDomain", "EventStore", "PostgresStore", "KubeSim", "TritonProjections",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresStoreTests",
            dependencies: ["PostgresStore", "EventStore"],
            swiftSettings: swiftSettings
        ),
    ]
)
