import ArgumentParser
import Foundation
import SyspectExplore

/// `syspect export k8s-job SPEC --db URL --probes N`: a Kubernetes Indexed Job manifest running
/// `syspect probe` once per planned probe index (on paper: no Kubernetes here; docs/cluster.md).
struct ExportK8sJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k8s-job",
        abstract: "Write a Kubernetes Indexed Job manifest that runs `syspect probe` for each probe index of SPEC.",
        discussion: """
            Each pod runs `syspect probe SPEC --db URL --index $(JOB_COMPLETION_INDEX) --spec-hash H` \
            (the entry point Slurm array tasks run) as root with CAP_SYS_PTRACE and CAP_SYS_ADMIN (or \
            --privileged), seccomp and AppArmor unconfined. The image must hold syspect, the application \
            and its workload tools, and the spec folder at the spec's absolute path; the indices must be \
            planned in the database by a coordinator first. Not run here: no container engine (docs/cluster.md).
            """)

    @Argument(help: ArgumentHelp("The application's spec (YAML); its absolute path is where the image must hold it.", valueName: "spec"))
    var spec: String

    @Option(help: ArgumentHelp("The shared PostgreSQL every pod writes its outcome to.", valueName: "postgres://…"))
    var db: String

    @Option(help: ArgumentHelp("Number of probe indices (the Job's completions).", valueName: "n"))
    var probes: Int

    @Option(help: ArgumentHelp("Pods at once.", valueName: "n"))
    var parallelism: Int = 4

    @Option(help: ArgumentHelp("The container image (docs/cluster.md says what it must hold).", valueName: "image"))
    var image: String = "syspect:latest"

    @Option(help: ArgumentHelp("The Job's name (default: syspect-APP-WORKLOAD).", valueName: "name"))
    var name: String?

    @Option(help: ArgumentHelp("The Job's namespace (default: none, kubectl's current one).", valueName: "name"))
    var namespace: String?

    @Flag(help: "A privileged pod instead of CAP_SYS_PTRACE + CAP_SYS_ADMIN (when the runtime masks /proc).")
    var privileged = false

    @Option(name: [.short, .long], help: ArgumentHelp("The YAML file to write (`-`: standard output).", valueName: "file"))
    var output: String = "-"

    func run() throws {
        try DataOptions.reportingFailures(command: "export k8s-job") {
            let appSpec: AppSpec
            do { appSpec = try AppSpec.load(path: spec) } catch { throw CommandFailure("\(error)") }
            let absolute = URL(fileURLWithPath: spec).standardizedFileURL.path
            let job = KubernetesJob(
                name: name ?? KubernetesJob.defaultName(app: appSpec.name, workload: appSpec.workload),
                namespace: namespace, image: image, specPath: absolute, specHash: Explorer.specHash(appSpec),
                runKey: Explorer.key(for: appSpec), database: db, probes: probes, parallelism: parallelism,
                privileged: privileged)
            if let problem = job.problem { throw CommandFailure(problem) }
            try writeOutput(Data(try job.yaml().utf8), to: output)
        }
    }
}
