import TritonDomain

/// The demo's two releases: a create of `prod/checkout` (10 pods, batches of 5, auto) and the
/// article's canary update to v2 (canary 1, batches of 3, manual).
public enum DemoReleases {
    public static let instance = InstanceRef(namespace: "prod", name: "checkout")

    public static func create(_ id: String = "checkout-create") -> DeployFlow.CreateFlow {
        DeployFlow.CreateFlow(
            flowID: FlowID(id), instance: Self.instance, action: .create,
            appSpec: AppSpec(appID: 12122, groupID: 10010, appName: "checkout", image: "shop/checkout:v1"),
            currentReplicas: 0, targetReplicas: 10, strategy: Strategy(batchSize: .count(5), mode: .auto, batchIntervalSeconds: 2)
        )
    }

    public static func canaryUpdate(_ id: String = "checkout-update", existingPods: [String]) -> DeployFlow.CreateFlow {
        DeployFlow.CreateFlow(
            flowID: FlowID(id), instance: Self.instance, action: .update,
            appSpec: AppSpec(appID: 12122, groupID: 10010, appName: "checkout", image: "shop/checkout:v2"),
            currentReplicas: 10, targetReplicas: 10, existingPods: existingPods,
            strategy: Strategy(batchSize: .count(3), canary: 1, mode: .manual)
        )
    }
}
