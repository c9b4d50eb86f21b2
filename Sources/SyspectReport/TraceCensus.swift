import Foundation
import SyspectCore

/// Reads the census of a `syspect trace --json` report (docs/trace-json.md, schema version 1)
/// as a run without verdicts, so a seccomp profile can be made from a plain trace.
public enum TraceCensus {
    /// What can be wrong with a trace report.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case notATraceReport(String)
        case unsupportedSchema(Int)

        public var description: String {
            switch self {
            case .notATraceReport(let why):
                return "not a `syspect trace --json` report (\(why)); write one with syspect trace --json --output FILE -- COMMAND"
            case .unsupportedSchema(let version):
                return "trace report schema version \(version) is not supported (this syspect reads version 1); re-run syspect trace --json"
            }
        }
    }

    /// The traced x86-64 calls as `tracedOnly` of a run named `app`/`workload`, and the calls
    /// made through other ABIs (i386, x32) as "arch:name", which an x86-64 profile denies.
    public static func run(json: Data, app: String, workload: String = "trace") throws(Failure) -> (run: ReportedRun, otherABIs: [String]) {
        struct Entry: Decodable { var arch: String; var number: Int; var name: String }
        struct Result: Decodable { var census: [Entry] }
        struct Document: Decodable { var schemaVersion: Int; var result: Result }
        struct Header: Decodable { var schemaVersion: Int }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: json) } catch {
            throw .notATraceReport(InputText.decodingProblem(error, in: json))
        }
        guard header.schemaVersion == 1 else { throw .unsupportedSchema(header.schemaVersion) }
        let document: Document
        do { document = try JSONDecoder().decode(Document.self, from: json) } catch {
            throw .notATraceReport(InputText.decodingProblem(error, in: json))
        }
        let native = document.result.census.filter { $0.arch == Arch.x86_64.rawValue }
        let others = document.result.census.filter { $0.arch != Arch.x86_64.rawValue }.map { "\($0.arch):\($0.name)" }
        let measurement = Measurement(app: app, workload: workload, kind: .health, verdicts: [:], source: "syspect trace")
        return (ReportedRun(measurement: measurement, tracedOnly: Set(native.map(\.number))), others.sorted())
    }
}
