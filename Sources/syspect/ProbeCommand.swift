import ArgumentParser
import Foundation
import SyspectCore
import SyspectExplore
import SyspectStore

/// `syspect probe SPEC --db URL --index I [--spec-hash H]`: what one cluster task runs — the
/// coordinator's planned probe I, in its sandbox on this node, its outcome stored once
/// (docs/cluster.md, "The probe contract").
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Run one probe a cluster coordinator planned (a Slurm array task or Kubernetes pod) and store its outcome.",
        discussion: """
            SPEC must be this node's copy of the coordinator's spec (same path, same content: \
            --spec-hash refuses another). The probe runs exactly as with --executor local; its outcome \
            goes to the database in one transaction, unless one is already stored for INDEX (then \
            nothing runs). --check runs nothing: it checks the spec hash and that the database \
            answers from this node (the coordinator's first task).

            Exit status: 0 the outcome is stored (whatever the verdict), or was already; 1 nothing \
            stored (spec hash differs, nothing planned under INDEX, database error); 6 the PostgreSQL \
            database cannot be reached from this node; 64 usage error.
            """)

    @Argument(help: ArgumentHelp("The application spec file (YAML): this node's copy.", valueName: "SPEC"))
    var spec: String

    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp("The planned probe's index (the Slurm array task id).", valueName: "I"))
    var index: Int?

    @Option(help: ArgumentHelp("The coordinator's spec hash: a node whose copy hashes differently refuses the task.", valueName: "H"))
    var specHash: String?

    @Option(help: ArgumentHelp("Folder for the probe folders on this node (not under /tmp; default as for explore).", valueName: "DIR"))
    var workDir: String?

    @Flag(help: "Run nothing: check the spec hash and that the database answers from this node.")
    var check = false

    func validate() throws {
        if check == (index != nil) { throw ValidationError("give either --index I or --check") }
        if let index, index < 0 { throw ValidationError("--index must be 0 or more, not \(index)") }
    }

    func run() throws {
        let appSpec: AppSpec
        do { appSpec = try AppSpec.load(path: spec) } catch { fail("\(error)", status: 1) }
        let host = ProcessInfo.processInfo.hostName
        do {
            try ClusterProbe.checkHash(appSpec, path: spec, expected: specHash)
            let database = try store.openStore()
            if check {
                _ = try database.info()
                print("syspect probe: \(host): spec \(Explorer.specHash(appSpec)) and database \(database.location) ok")
                return
            }
            guard let planned = database as? any ResultStore & PlannedProbeStore else {
                fail("the store at \(database.location) keeps no planned probes", status: 1)
            }
            switch try ClusterProbe.run(spec: appSpec, path: spec, store: planned, index: index!, specHash: specHash, workDirectory: workDir, host: host) {
            case .stored(let outcome): print("syspect probe: \(host): probe \(index!) \(outcome.rawValue), stored")
            case .alreadyStored(let outcome): print("syspect probe: \(host): probe \(index!) already has an outcome (\(outcome?.rawValue ?? "?")): nothing run")
            }
        } catch let error as StoreError {
            fail(error.description, status: ExploreCommand.status(of: error) == 6 ? 6 : 1)
        } catch {
            fail("\(error)", status: 1)
        }
    }

    func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("syspect probe: \(message)\n".utf8))
        Foundation.exit(status)
    }
}
