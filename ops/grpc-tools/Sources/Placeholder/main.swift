print("Build the protoc plugins with: swift build --product protoc-gen-swift / protoc-gen-grpc-swift-2")
