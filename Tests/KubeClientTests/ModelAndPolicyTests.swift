import Foundation
import Testing
import TritonJSON

@testable import KubeClient

@Suite("Objects, errors, retry policy and rate limiting")
struct ModelAndPolicyTests {
    @Test func unknownFieldsSurviveAReadModifyWrite() throws {
        let json = """
            {"apiVersion":"apps.kruise.io/v1alpha1","kind":"CloneSet",
             "metadata":{"name":"demo","namespace":"prod","resourceVersion":"7","generation":3,
                         "futureMetadata":{"x":[1,2.5,null,true]}},
             "spec":{"replicas":12,"updateStrategy":{"type":"ReCreate","partition":10,"maxSurge":"60%",
                     "newKnob":"keep-me"},"futureSpec":{"deep":{"value":9007199254740993}}},
             "status":{"updatedReplicas":2,"expectedUpdatedReplicas":2,"updateRevision":"demo-56dfb978d4"}}
            """
        var cloneSet = try JSONDecoder().decode(CloneSet.self, from: Data(json.utf8))
        #expect(cloneSet.replicas == 12)
        #expect(cloneSet.partition == .int(10))
        #expect(cloneSet.maxSurge == .string("60%"))
        #expect(cloneSet.metadata.generation == 3)
        #expect(cloneSet.cloneSetStatus.updateRevision == "demo-56dfb978d4")
        cloneSet.replicas = 10
        cloneSet.partition = .int(8)
        cloneSet.paused = true
        cloneSet.metadata.labels["team"] = "payments"
        let written = try JSONValue(jsonData: try JSONEncoder().encode(cloneSet))
        #expect(written[path: ["spec", "futureSpec", "deep", "value"]] == .int(9_007_199_254_740_993))
        #expect(written[path: ["spec", "updateStrategy", "newKnob"]] == "keep-me")
        #expect(written[path: ["metadata", "futureMetadata", "x"]] == [1, 2.5, nil, true])
        #expect(written[path: ["spec", "replicas"]] == 10)
        #expect(written[path: ["spec", "updateStrategy", "paused"]] == true)
        #expect(written[path: ["metadata", "labels", "team"]] == "payments")
    }

    @Test func podAccessors() throws {
        let pod = Pod(json: [
            "metadata": ["name": "demo-x7k2p"],
            "spec": ["readinessGates": [["conditionType": "apps.triton.io/ready"]]],
            "status": [
                "phase": "Running",
                "conditions": [
                    ["type": "ContainersReady", "status": "True"],
                    ["type": "Ready", "status": "False", "reason": "ReadinessGatesNotReady"],
                ],
                "containerStatuses": [["ready": true, "restartCount": 2]],
            ],
        ])
        #expect(pod.readinessGates == ["apps.triton.io/ready"])
        #expect(pod.containersReady)
        #expect(!pod.isReady)
        #expect(pod.condition("Ready")?.reason == "ReadinessGatesNotReady")
        #expect(pod.restartCount == 2)
        let table = PodTable.render([pod])
        #expect(table.contains("demo-x7k2p"))
        #expect(table.contains("1/1"))
        #expect(PodTable.age(3 * 86400) == "3d")
    }

    @Test func resourcePaths() {
        #expect(KubeResource.pods.path(namespace: "ns", name: "p", subresource: "status") == "/api/v1/namespaces/ns/pods/p/status")
        #expect(KubeResource.cloneSets.path(namespace: "ns") == "/apis/apps.kruise.io/v1alpha1/namespaces/ns/clonesets")
        #expect(KubeResource.namespaces.path(namespace: "ignored", name: "a") == "/api/v1/namespaces/a")
        #expect(encodeQuery([("labelSelector", "app in (a,b),x=y")]) == "labelSelector=app%20in%20%28a%2Cb%29%2Cx%3Dy")
    }

    @Test(arguments: [
        (404, "NotFound", KubeError.Code.notFound),
        (409, "Conflict", .conflict),
        (409, "AlreadyExists", .alreadyExists),
        (422, "Invalid", .invalid),
        (403, "Forbidden", .forbidden),
        (401, "Unauthorized", .unauthorized),
        (429, "TooManyRequests", .tooManyRequests),
        (410, "Expired", .gone),
        (503, "", .serviceUnavailable),
    ])
    func statusErrorsMapToCodes(httpStatus: Int, reason: String, code: KubeError.Code) throws {
        let body = JSONValue.object([
            "kind": "Status", "status": "Failure", "message": "m", "reason": .string(reason),
            "code": .int(httpStatus), "details": ["retryAfterSeconds": 3],
        ]).jsonData()
        let error = KubeError.fromResponse(httpStatus: httpStatus, body: body, retryAfterHeader: nil, request: "GET /x")
        #expect(error.code == code)
        #expect(error.retryAfter == .seconds(3))
        #expect(error.description.contains("\(code)"))
        #expect(!error.description.contains("GET /x"))
        #expect(String(reflecting: error).contains("GET /x"))
    }

    @Test func retryPolicy() {
        let policy = RetryPolicy(maxRetries: 3, initialBackoff: .milliseconds(100), maxBackoff: .seconds(1), jitter: 0.5)
        #expect(policy.delay(attempt: 1, random: 1) == .milliseconds(100))
        #expect(policy.delay(attempt: 1, random: 0) == .milliseconds(50))
        #expect(policy.delay(attempt: 3, random: 1) == .milliseconds(400))
        #expect(policy.delay(attempt: 60, random: 1) == .seconds(1))
        #expect(policy.delay(attempt: 1, retryAfter: .seconds(30)) == .seconds(1))
        let unavailable = KubeError(.serviceUnavailable, "")
        #expect(policy.isRetryable(unavailable, method: "GET"))
        #expect(!policy.isRetryable(unavailable, method: "POST"))
        #expect(policy.isRetryable(KubeError(.tooManyRequests, ""), method: "PATCH"))
        #expect(policy.isRetryable(KubeError(.connectionFailed, ""), method: "POST"))
        #expect(!policy.isRetryable(KubeError(.conflict, ""), method: "PUT"))
    }

    @Test func tokenBucketAllowsABurstThenQPS() {
        var bucket = TokenBucket(qps: 5, burst: 10)
        for _ in 0..<10 { #expect(bucket.reserve(now: .zero) == .zero) }
        #expect(bucket.reserve(now: .zero) == .milliseconds(200))
        #expect(bucket.reserve(now: .zero) == .milliseconds(400))
        // After 2 s the debt of 2 is repaid and 8 tokens are back.
        #expect(bucket.reserve(now: .seconds(2)) == .zero)
        var unlimited = TokenBucket(qps: 0, burst: 1)
        for _ in 0..<100 { #expect(unlimited.reserve(now: .zero) == .zero) }
    }
}
