import TritonJSON

/// How long each step of a pod's life takes, in simulated seconds.
public struct PodTimings: Sendable, Hashable {
    /// Creation → bound to a node (`Scheduled`). Defaults to `0.5`.
    public var scheduleSeconds: Double = 0.5
    /// Image pull (`Pulling` → `Pulled`). Defaults to `2`.
    public var imagePullSeconds: Double = 2
    /// Container start → ContainersReady (the app's start-up time). Defaults to `5`.
    public var startupSeconds: Double = 5
    /// Time the preStop hook runs, when the pod has one (capped by the grace period). Defaults to `3`.
    public var preStopSeconds: Double = 3
    /// Time the app takes to exit after SIGTERM (capped by the grace period). Defaults to `1`.
    public var shutdownSeconds: Double = 1
    /// For `crash-loop`: time a container runs before it exits with an error. Defaults to `3`.
    public var crashAfterSeconds: Double = 3
    /// For `node-lost`: time after the pod started running before its node is lost. Defaults to `30`.
    public var failAfterSeconds: Double = 30

    public init() {}
}

/// A fault injected into a pod, from the annotation `sim.triton.io/fault` (comma-separated) or from
/// the image tag (e.g. `reg/app:v2-crash-loop`).
public enum PodFault: String, Sendable, CaseIterable {
    /// Every pull fails: `ErrImagePull`, then `ImagePullBackOff`, retried with back-off.
    case imagePullFailure = "image-pull-failure"
    /// The container exits with an error after `crashAfterSeconds`: `CrashLoopBackOff`, growing `restartCount`.
    case crashLoop = "crash-loop"
    /// The container runs but never becomes ready.
    case neverReady = "never-ready"
    /// The pod's node stops responding `failAfterSeconds` after the pod started: the pod fails
    /// (`phase: Failed`, reason `NodeLost`).
    case nodeLost = "node-lost"
}

/// The annotations the simulated kubelet reads from a pod (copied from the pod template).
public enum SimAnnotations {
    public static let prefix = "sim.triton.io/"
    public static let scheduleSeconds = "sim.triton.io/schedule-seconds"
    public static let imagePullSeconds = "sim.triton.io/image-pull-seconds"
    public static let startupSeconds = "sim.triton.io/startup-seconds"
    public static let preStopSeconds = "sim.triton.io/prestop-seconds"
    public static let shutdownSeconds = "sim.triton.io/shutdown-seconds"
    public static let crashAfterSeconds = "sim.triton.io/crash-after-seconds"
    public static let failAfterSeconds = "sim.triton.io/fail-after-seconds"
    public static let fault = "sim.triton.io/fault"
}

/// The timings and faults of one pod.
struct PodProfile: Sendable {
    var timings: PodTimings
    var faults: Set<PodFault>
    var hasPreStop: Bool
    var gracePeriod: Double

    init(pod: JSONValue, defaults: PodTimings) {
        let annotations = pod.annotations
        var t = defaults
        func read(_ key: String, _ keyPath: WritableKeyPath<PodTimings, Double>) {
            if let text = annotations[key], let v = Double(text), v >= 0 { t[keyPath: keyPath] = v }
        }
        read(SimAnnotations.scheduleSeconds, \.scheduleSeconds)
        read(SimAnnotations.imagePullSeconds, \.imagePullSeconds)
        read(SimAnnotations.startupSeconds, \.startupSeconds)
        read(SimAnnotations.preStopSeconds, \.preStopSeconds)
        read(SimAnnotations.shutdownSeconds, \.shutdownSeconds)
        read(SimAnnotations.crashAfterSeconds, \.crashAfterSeconds)
        read(SimAnnotations.failAfterSeconds, \.failAfterSeconds)
        self.timings = t
        var faults: Set<PodFault> = []
        for name in (annotations[SimAnnotations.fault] ?? "").split(separator: ",") {
            if let f = PodFault(rawValue: String(name).trimmingWhitespace()) { faults.insert(f) }
        }
        let containers = pod[path: ["spec", "containers"]]?.arrayValue ?? []
        for container in containers {
            guard let tag = Defaults.imageTag(container["image"]?.stringValue ?? "") else { continue }
            for fault in PodFault.allCases where tag.contains(fault.rawValue) { faults.insert(fault) }
        }
        self.faults = faults
        self.hasPreStop = containers.contains { $0[path: ["lifecycle", "preStop"]] != nil }
        self.gracePeriod = Double(pod[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30)
    }

    /// Simulated time from SIGTERM (or preStop) to the pod being gone.
    func terminationSeconds(grace: Double) -> Double {
        let work = (self.hasPreStop ? self.timings.preStopSeconds : 0) + self.timings.shutdownSeconds
        return min(grace, work)
    }
}
