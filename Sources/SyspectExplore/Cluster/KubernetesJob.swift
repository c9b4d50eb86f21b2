import Foundation
import Yams

/// A Kubernetes Indexed Job that would run `syspect probe` once per planned probe index against a
/// shared PostgreSQL (issue 15, Must 4: on paper, not run here). docs/cluster.md describes the image
/// and the `syspect probe` contract (the entry point Slurm array tasks run).
public struct KubernetesJob: Sendable, Hashable {
    /// metadata.name (a DNS label).
    public var name: String
    public var namespace: String?
    /// An image holding syspect, the application and its workload tools, and the spec folder at `specPath`.
    public var image: String
    /// The spec's absolute path inside the image.
    public var specPath: String
    /// Explorer.specHash of the spec: a pod whose copy hashes differently must refuse the task.
    public var specHash: String
    /// The app/workload@hash key of the exploration (Explorer.key).
    public var runKey: String
    /// postgres://… that every pod can reach.
    public var database: String
    /// Number of probe indices (completions), each run once.
    public var probes: Int
    /// Pods at once.
    public var parallelism: Int
    /// A privileged pod instead of the listed capabilities.
    public var privileged: Bool = false
    /// Retries of one index before it counts as failed (a lost pod, an evicted node).
    public var retriesPerIndex: Int = 2

    /// Linux capabilities a probe needs without a privileged pod: ptrace (the tracer) and
    /// namespaces/mounts (unshare of user, PID, network, mount, IPC, UTS; mounting /proc).
    public static let capabilities = ["SYS_PTRACE", "SYS_ADMIN"]

    public init(name: String, namespace: String? = nil, image: String, specPath: String, specHash: String, runKey: String,
                database: String, probes: Int, parallelism: Int, privileged: Bool = false, retriesPerIndex: Int = 2) {
        self.name = name
        self.namespace = namespace
        self.image = image
        self.specPath = specPath
        self.specHash = specHash
        self.runKey = runKey
        self.database = database
        self.probes = probes
        self.parallelism = parallelism
        self.privileged = privileged
        self.retriesPerIndex = retriesPerIndex
    }

    /// What is wrong with it, or nil (each message names the option to fix).
    public var problem: String? {
        if !(database.hasPrefix("postgres://") || database.hasPrefix("postgresql://")) {
            return "--db must be a postgres:// URL every pod can reach (got '\(database)')"
        }
        if probes < 1 { return "--probes must be at least 1 (got \(probes))" }
        if parallelism < 1 { return "--parallelism must be at least 1 (got \(parallelism))" }
        if image.isEmpty || image.contains(where: \.isWhitespace) { return "--image '\(image)' is not an image reference" }
        if !Self.isDNSLabel(name) { return "--name '\(name)' is not a Kubernetes name (lower-case letters, digits and '-', at most 63)" }
        if let namespace, !Self.isDNSLabel(namespace) { return "--namespace '\(namespace)' is not a Kubernetes name" }
        if !specPath.hasPrefix("/") { return "the spec path inside the image must be absolute (got '\(specPath)')" }
        return nil
    }

    /// `redis-benchmark` → `syspect-redis-benchmark` (lower case, other characters as '-', ≤ 63).
    public static func defaultName(app: String, workload: String) -> String {
        let raw = "syspect-\(app)-\(workload)".lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII ? $0 : "-" }
        var name = String(String(raw).split(separator: "-").joined(separator: "-").prefix(63))
        while name.hasSuffix("-") { name.removeLast() }
        return name
    }

    static func isDNSLabel(_ text: String) -> Bool {
        guard (1...63).contains(text.count), let first = text.first, let last = text.last,
              first.isLetter || first.isNumber, last.isLetter || last.isNumber else { return false }
        return text.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
    }

    /// The `syspect probe` command line of one pod (`$(JOB_COMPLETION_INDEX)` is expanded by the kubelet).
    public var probeCommand: [String] {
        ["syspect", "probe", specPath, "--db", "$(SYSPECT_DB)", "--index", "$(JOB_COMPLETION_INDEX)", "--spec-hash", specHash]
    }

    /// The manifest as YAML.
    public func yaml() throws -> String {
        let labels: SortedMap = ["app.kubernetes.io/name": "syspect", "app.kubernetes.io/component": "probe"]
        let security = SecurityContext(
            runAsUser: 0, privileged: privileged ? true : nil,
            allowPrivilegeEscalation: true,
            capabilities: privileged ? nil : Capabilities(add: Self.capabilities),
            seccompProfile: Profile(type: "Unconfined"), appArmorProfile: Profile(type: "Unconfined"))
        let manifest = Manifest(
            metadata: Metadata(
                name: name, namespace: namespace, labels: labels,
                annotations: ["syspect/run": runKey, "syspect/spec": specPath, "syspect/spec-hash": specHash]),
            spec: JobSpec(
                completionMode: "Indexed", completions: probes, parallelism: parallelism,
                backoffLimitPerIndex: retriesPerIndex, maxFailedIndexes: probes,
                template: PodTemplate(
                    metadata: Metadata(
                        name: nil, namespace: nil, labels: labels,
                        annotations: ["container.apparmor.security.beta.kubernetes.io/probe": "unconfined"]),
                    spec: PodSpec(
                        restartPolicy: "Never",
                        containers: [Container(
                            name: "probe", image: image, command: probeCommand,
                            env: [EnvVar(name: "SYSPECT_DB", value: database)],
                            securityContext: security)]))))
        return try YAMLEncoder().encode(manifest)
    }

    private struct Manifest: Encodable {
        var apiVersion = "batch/v1"
        var kind = "Job"
        var metadata: Metadata
        var spec: JobSpec
    }
    private struct Metadata: Encodable {
        var name: String?
        var namespace: String?
        var labels: SortedMap
        var annotations: SortedMap
    }
    /// A string map written in key order (the same manifest every time).
    private struct SortedMap: Encodable, ExpressibleByDictionaryLiteral {
        var entries: [String: String]
        init(dictionaryLiteral elements: (String, String)...) { entries = Dictionary(uniqueKeysWithValues: elements) }
        struct Name: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Name.self)
            for key in entries.keys.sorted() { try container.encode(entries[key]!, forKey: Name(stringValue: key)) }
        }
    }
    private struct JobSpec: Encodable {
        var completionMode: String
        var completions: Int
        var parallelism: Int
        var backoffLimitPerIndex: Int
        var maxFailedIndexes: Int
        var template: PodTemplate
    }
    private struct PodTemplate: Encodable {
        var metadata: Metadata
        var spec: PodSpec
    }
    private struct PodSpec: Encodable {
        var restartPolicy: String
        var containers: [Container]
    }
    private struct Container: Encodable {
        var name: String
        var image: String
        var command: [String]
        var env: [EnvVar]
        var securityContext: SecurityContext
    }
    private struct EnvVar: Encodable {
        var name: String
        var value: String
    }
    private struct SecurityContext: Encodable {
        var runAsUser: Int
        var privileged: Bool?
        var allowPrivilegeEscalation: Bool
        var capabilities: Capabilities?
        var seccompProfile: Profile
        var appArmorProfile: Profile
    }
    private struct Capabilities: Encodable {
        var add: [String]
    }
    private struct Profile: Encodable {
        var type: String
    }
}
