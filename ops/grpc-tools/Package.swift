// swift-tools-version: 6.1
// Tools package: builds the protoc plugins used by ops/grpc-gen.sh.
// Kept apart from the main package so its build (and .build dir) never touches Triton's.
import PackageDescription

let package = Package(
    name: "grpc-tools",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    ],
    targets: [
        // A placeholder target so the package has something of its own; the plugins are
        // built with `swift build --product protoc-gen-swift` / `--product protoc-gen-grpc-swift-2`.
        .executableTarget(name: "grpc-tools-placeholder", path: "Sources/Placeholder"),
    ]
)
