import EventStore
import Foundation
import Testing
import TritonDomain
import TritonEngine
import TritonTesting

@Suite("State cache")
struct StateCacheTests {
    @Test func aCachedHandlerSeesOtherWritersAndFoldsLikeAFreshOne() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        let cache = StateCache(capacity: 2)
        let cached = CommandHandler(store: h.store, cache: cache)
        let created = try await h.provision(replicas: 3)
        let flow = try #require(created.spec?.flowID)
        // Another writer (another process) appends after the cache was filled.
        let first = try await cached.load(DeployFlow.self, stream: Streams.flow(flow))
        #expect(cache.count == 1)
        let update = try await h.handler.prepare(
            ReleaseRequest(instance: EngineHarness.instance, action: .update(image: "shop/checkout:v2", appSpec: nil),
                           strategy: Strategy(batchSize: .count(3), mode: .auto)),
            cluster: h.port)
        _ = try await h.createFlow(update)
        _ = try await h.run(update.flowID, until: \.isFinished)
        let instance = Streams.instance(EngineHarness.instance)
        for _ in 0..<2 {
            let viaCache = try await cached.load(Instance.self, stream: instance)
            let fresh = try await h.handler.load(Instance.self, stream: instance)
            #expect(viaCache.state == fresh.state && viaCache.version == fresh.version)
        }
        for stream in [Streams.flow(flow), Streams.flow(update.flowID)] {
            // Twice: the first fills or tops up the cache, the second reads nothing new.
            for _ in 0..<2 {
                let viaCache = try await cached.load(DeployFlow.self, stream: stream)
                let fresh = try await h.handler.load(DeployFlow.self, stream: stream)
                #expect(viaCache.state == fresh.state && viaCache.version == fresh.version, "\(stream)")
            }
        }
        #expect(first.version <= (try await cached.load(DeployFlow.self, stream: Streams.flow(flow))).version)
        // Bounded: capacity 2 keeps at most 2 streams.
        #expect(cache.count <= 2)
        // A command through the cached handler is decided on the current state (a finished flow refuses).
        await #expect(throws: DomainRejection.self) {
            try await cached.send(.pause, to: update.flowID, metadata: h.metadata())
        }
    }
}
