import Foundation
import Testing
import Yams
@testable import SyspectExplore

/// `syspect export k8s-job` (issue 15 Must 4, on paper): the manifest through the real CLI, read
/// back as YAML; its pod command run through the real `syspect probe`.
@Suite("Kubernetes Indexed Job manifest (syspect export k8s-job)")
struct KubernetesJobTests {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sqlite-small.yaml").path

    func manifest(_ extra: [String]) throws -> [String: Any] {
        let (status, out, err) = try syspect(["export", "k8s-job", fixture] + extra)
        #expect(status == 0, "stderr: \(err)")
        return try #require(try Yams.load(yaml: out) as? [String: Any])
    }

    @Test func indexedJobCarriesTheCountsTheSecurityContextAndTheDatabaseFromTheOption() throws {
        let url = "postgres://probe:secret@db.example.internal:5433/syspect_\(UUID().uuidString.prefix(6).lowercased())"
        let job = try manifest(["--db", url, "--probes", "37", "--parallelism", "5", "--image", "registry.example/syspect:1.2"])
        #expect(job["apiVersion"] as? String == "batch/v1")
        #expect(job["kind"] as? String == "Job")
        let spec = try #require(job["spec"] as? [String: Any])
        #expect(spec["completionMode"] as? String == "Indexed")
        #expect(spec["completions"] as? Int == 37)
        #expect(spec["parallelism"] as? Int == 5)
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["restartPolicy"] as? String == "Never")
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        #expect(container["image"] as? String == "registry.example/syspect:1.2")
        let env = try #require(container["env"] as? [[String: Any]])
        #expect(env.contains { $0["name"] as? String == "SYSPECT_DB" && $0["value"] as? String == url })
        let command = try #require(container["command"] as? [String])
        #expect(Array(command.prefix(3)) == ["syspect", "probe", fixture])
        #expect(command.contains("$(JOB_COMPLETION_INDEX)") && command.contains("$(SYSPECT_DB)"))
        let security = try #require(container["securityContext"] as? [String: Any])
        #expect(security["runAsUser"] as? Int == 0)
        #expect((security["capabilities"] as? [String: Any])?["add"] as? [String] == ["SYS_PTRACE", "SYS_ADMIN"])
        #expect((security["seccompProfile"] as? [String: Any])?["type"] as? String == "Unconfined")
        #expect((security["appArmorProfile"] as? [String: Any])?["type"] as? String == "Unconfined")
        #expect(security["privileged"] == nil)
        let metadata = try #require(job["metadata"] as? [String: Any])
        #expect(metadata["name"] as? String == "syspect-sqlite-test-health-sql")
        let annotations = try #require(metadata["annotations"] as? [String: Any])
        let hash = try #require(annotations["syspect/spec-hash"] as? String)
        #expect(hash == Explorer.specHash(try AppSpec.load(path: fixture)))
        #expect(command.suffix(2) == ["--spec-hash", hash])
    }

    @Test func privilegedPodInsteadOfCapabilities() throws {
        let job = try manifest(["--db", "postgresql://h/db", "--probes", "1", "--privileged", "--name", "probe-run", "--namespace", "ci"])
        let metadata = try #require(job["metadata"] as? [String: Any])
        #expect(metadata["name"] as? String == "probe-run" && metadata["namespace"] as? String == "ci")
        let spec = try #require(job["spec"] as? [String: Any])
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        let security = try #require(((pod["containers"] as? [[String: Any]])?.first)?["securityContext"] as? [String: Any])
        #expect(security["privileged"] as? Bool == true)
        #expect(security["capabilities"] == nil)
    }

    @Test func badInputIsOneLineNamingTheOption() throws {
        let cases: [([String], String)] = [
            (["--db", "sqlite:///tmp/x.db", "--probes", "3"], "--db must be a postgres:// URL"),
            (["--db", "postgres://h/db", "--probes", "0"], "--probes must be at least 1"),
            (["--db", "postgres://h/db", "--probes", "2", "--name", "Bad_Name"], "--name 'Bad_Name' is not a Kubernetes name"),
        ]
        for (arguments, message) in cases {
            let (status, out, err) = try syspect(["export", "k8s-job", fixture] + arguments)
            #expect(status == 1)
            #expect(out.isEmpty)
            #expect(err.hasPrefix("syspect export k8s-job: ") && err.contains(message), "stderr: \(err)")
            #expect(err.split(separator: "\n").count == 1)
        }
        let (status, _, err) = try syspect(["export", "k8s-job", "/nonexistent/app.yaml", "--db", "postgres://h/db", "--probes", "1"])
        #expect(status == 1 && err.contains("/nonexistent/app.yaml"))
    }

    /// The pod's command is the real `syspect probe` contract: with the kubelet's variables
    /// expanded it parses, opens the database, and refuses only because nothing is planned there.
    @Test func thePodCommandIsOneTheRealSyspectProbeAccepts() throws {
        let folder = "/var/tmp/syspect-k8s-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let job = try manifest(["--db", "postgres://h/db", "--probes", "2"])
        let spec = try #require(job["spec"] as? [String: Any])
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        let command = try #require((pod["containers"] as? [[String: Any]])?.first?["command"] as? [String])
        let expanded = command.dropFirst().map {
            $0.replacingOccurrences(of: "$(SYSPECT_DB)", with: "\(folder)/cluster.db").replacingOccurrences(of: "$(JOB_COMPLETION_INDEX)", with: "1")
        }
        let (status, _, err) = try syspect(Array(expanded))
        #expect(status == 1 && err.contains("holds no exploration") && err.contains("--executor slurm"), "stderr: \(err)")
    }

    @Test func theSameInputGivesTheSameManifest() throws {
        let arguments = ["export", "k8s-job", fixture, "--db", "postgres://h/db", "--probes", "4"]
        #expect(try syspect(arguments).1 == syspect(arguments).1)
    }

    @Test func defaultNamesAreKubernetesNames() {
        #expect(KubernetesJob.defaultName(app: "Redis_7", workload: "benchmark.redis") == "syspect-redis-7-benchmark-redis")
        #expect(KubernetesJob.isDNSLabel(KubernetesJob.defaultName(app: String(repeating: "a", count: 80), workload: "w")))
    }
}
