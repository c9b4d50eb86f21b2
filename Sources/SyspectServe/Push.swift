import Foundation
import SyspectCore
import SyspectStore

/// What `syspect push` uploads (POST /api/v1/push): explorations with everything stored with
/// them. JSON with dates as seconds since 1970 (exact round trip).
public struct PushBundle: Codable, Sendable, Hashable {
    public static let formatName = "syspect-push"

    /// Always "syspect-push".
    public var format: String
    /// The schema version of the syspect that wrote it: a server refuses a newer one.
    public var schemaVersion: Int
    public var syspect: String
    public var explorations: [PushedExploration]

    public init(explorations: [PushedExploration], schemaVersion: Int = StoreSchema.currentVersion, syspect: String = SyspectVersion.current) {
        format = Self.formatName
        self.schemaVersion = schemaVersion
        self.syspect = syspect
        self.explorations = explorations
    }

    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .secondsSince1970
        e.outputFormatting = .sortedKeys
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .secondsSince1970
        return d
    }
}

/// One exploration and what is stored with it.
public struct PushedExploration: Codable, Sendable, Hashable {
    public var exploration: ExplorationRecord
    public var probes: [ProbeRecord]
    public var findings: FeatureFindings
    public var impactRuns: [ImpactRunRecord]
    public var impactResults: [ImpactResult]
    public var staticAnalysis: ExplorationStatic?
    /// The measurement `explore` saved for (app, workload), sent with the latest exploration of
    /// that workload only.
    public var measurement: SyspectCore.Measurement?

    public init(exploration: ExplorationRecord, probes: [ProbeRecord], findings: FeatureFindings = FeatureFindings(),
                impactRuns: [ImpactRunRecord] = [], impactResults: [ImpactResult] = [],
                staticAnalysis: ExplorationStatic? = nil, measurement: SyspectCore.Measurement? = nil) {
        self.exploration = exploration
        self.probes = probes
        self.findings = findings
        self.impactRuns = impactRuns
        self.impactResults = impactResults
        self.staticAnalysis = staticAnalysis
        self.measurement = measurement
    }
}

/// A pushed probe whose (policy, replica) the server holds with another outcome: the server's is kept.
public struct ProbeConflict: Codable, Sendable, Hashable {
    public var policy: String
    public var replica: Int
    public var serverOutcome: ProbeOutcome
    public var pushedOutcome: ProbeOutcome
}

/// What a push did to one exploration (sent back to the pusher, kept in the push log).
public struct ExplorationMergeSummary: Codable, Sendable, Hashable {
    public var key: String
    public var app: String
    public var workload: String
    /// The server had no exploration of this key.
    public var created: Bool
    public var probesAdded: Int
    /// Pushed probes the server held already with the same outcome.
    public var probesAlreadyPresent: Int
    public var conflicts: [ProbeConflict]
    public var impactRunsAdded: Int
    public var impactResultsAdded: Int
    /// "added" (the server had none), "kept" (the server's stay) or "none" (nothing pushed).
    public var findings: String
    public var staticAnalysis: String
    /// "saved" (the pushed measurement is now the server's) or "kept" / "none".
    public var measurement: String
}

/// The answer to a push.
public struct PushSummary: Codable, Sendable, Hashable {
    public var token: String
    public var explorations: [ExplorationMergeSummary]
    public var probesAdded: Int
    public var probesKept: Int
}

/// What the server holds for one pushed exploration key, read before merging.
public struct ServerExplorationState: Sendable {
    public var record: ExplorationRecord?
    public var probes: [ProbeRecord]
    public var findings: FeatureFindings
    public var impactRuns: [ImpactRunRecord]
    public var impactResults: [ImpactResult]
    public var staticAnalysis: ExplorationStatic?
    /// The server holds a measurement of (app, workload) from source "syspect".
    public var hasMeasurement: Bool
    /// finishedAt of the server's OTHER explorations of the same (app, workload).
    public var otherFinished: [Date]

    public init(record: ExplorationRecord? = nil, probes: [ProbeRecord] = [], findings: FeatureFindings = FeatureFindings(),
                impactRuns: [ImpactRunRecord] = [], impactResults: [ImpactResult] = [], staticAnalysis: ExplorationStatic? = nil,
                hasMeasurement: Bool = false, otherFinished: [Date] = []) {
        self.record = record
        self.probes = probes
        self.findings = findings
        self.impactRuns = impactRuns
        self.impactResults = impactResults
        self.staticAnalysis = staticAnalysis
        self.hasMeasurement = hasMeasurement
        self.otherFinished = otherFinished
    }
}

/// The writes one pushed exploration needs: computed from the pushed data and the server's state
/// alone (`PushMerge.plan`), then applied by `Site.push`.
public struct MergePlan: Sendable, Hashable {
    /// `beginExploration` with this record (new key), or `updateExploration` (existing key).
    public var record: ExplorationRecord
    public var create: Bool
    public var probes: [ProbeRecord]
    public var findings: FeatureFindings?
    public var impactRuns: [ImpactRunRecord]
    public var impactResults: [ImpactResult]
    public var staticAnalysis: ExplorationStatic?
    public var measurement: SyspectCore.Measurement?
    public var summary: ExplorationMergeSummary
}

/// The merge rules of a push (docs/serve.md, "Push and merge"): by exploration key, a union
/// that never replaces anything the server holds.
///
/// - Probes: union by (policy, replica). A pushed probe the server lacks is added; one it holds
///   with the same outcome is left as it is; one it holds with ANOTHER outcome is a conflict:
///   the server's probe is kept, the pushed one dropped, and the conflict reported.
/// - The exploration record: a new key is created as pushed; an existing one keeps its spec,
///   strategy, priors and census (the pushed census fills an empty one), becomes finished if
///   the pushed one is, adds the probes added to its probe count and keeps the longer wall time.
/// - Sub-feature/pseudo-file findings and the static analysis: taken when the server has none.
/// - Impact runs: union by (syscall, mode, arm, run), the server's kept; impact results: added
///   for (syscall, mode) pairs the server has no result for.
/// - The measurement of (app, workload): saved when the server has none, or when the pushed
///   exploration is finished, had no conflict, and finished no earlier than every other
///   exploration of that workload on the server (the latest exploration's measurement is the
///   one shown, as `syspect show` picks the latest). Otherwise the server's is kept.
public enum PushMerge {
    public static func plan(_ pushed: PushedExploration, server: ServerExplorationState) -> MergePlan {
        let e = pushed.exploration
        var held: [String: ProbeRecord] = [:]
        for p in server.probes { held["\(p.policy)#\(p.replica)"] = p }
        var added: [ProbeRecord] = [], same = 0, conflicts: [ProbeConflict] = []
        for p in pushed.probes {
            guard let mine = held["\(p.policy)#\(p.replica)"] else {
                added.append(p)
                continue
            }
            if mine.outcome == p.outcome {
                same += 1
            } else {
                conflicts.append(ProbeConflict(policy: p.policy, replica: p.replica, serverOutcome: mine.outcome, pushedOutcome: p.outcome))
            }
        }

        var record: ExplorationRecord
        if let existing = server.record {
            record = existing
            if record.census.isEmpty { record.census = e.census }
            if record.finishedAt == nil { record.finishedAt = e.finishedAt }
            record.probeCount = existing.probeCount + added.count
            record.wallSeconds = max(existing.wallSeconds, e.wallSeconds)
        } else {
            record = e
        }

        let takeFindings = server.findings.isEmpty && !pushed.findings.isEmpty
        let takeStatic = server.staticAnalysis == nil && pushed.staticAnalysis != nil
        func runKey(_ r: ImpactRunRecord) -> String { "\(r.syscall)#\(r.mode)#\(r.baseline)#\(r.run)" }
        let heldRuns = Set(server.impactRuns.map(runKey))
        let runs = pushed.impactRuns.filter { !heldRuns.contains(runKey($0)) }
        let heldResults = Set(server.impactResults.map { "\($0.syscall)#\($0.mode)" })
        let results = pushed.impactResults.filter { !heldResults.contains("\($0.syscall)#\($0.mode)") }

        var measurement: SyspectCore.Measurement?
        if let m = pushed.measurement {
            let latest = e.finishedAt.map { finished in server.otherFinished.allSatisfy { $0 <= finished } } ?? false
            if !server.hasMeasurement || (latest && conflicts.isEmpty) { measurement = m }
        }

        func state(_ pushedSome: Bool, _ taken: Bool) -> String { !pushedSome ? "none" : taken ? "added" : "kept" }
        let summary = ExplorationMergeSummary(
            key: e.key, app: e.app, workload: e.workload, created: server.record == nil, probesAdded: added.count,
            probesAlreadyPresent: same, conflicts: conflicts, impactRunsAdded: runs.count, impactResultsAdded: results.count,
            findings: state(!pushed.findings.isEmpty, takeFindings), staticAnalysis: state(pushed.staticAnalysis != nil, takeStatic),
            measurement: pushed.measurement == nil ? "none" : measurement == nil ? "kept" : "saved")
        return MergePlan(
            record: record, create: server.record == nil, probes: added, findings: takeFindings ? pushed.findings : nil,
            impactRuns: runs, impactResults: results, staticAnalysis: takeStatic ? pushed.staticAnalysis : nil,
            measurement: measurement, summary: summary)
    }

    /// Checks a decoded bundle before anything is written: 4xx naming the first problem.
    public static func validate(_ bundle: PushBundle, serverSchema: Int = StoreSchema.currentVersion) throws(SiteError) {
        guard bundle.format == PushBundle.formatName else {
            throw .badRequest("not a push: format is '\(bundle.format)', expected '\(PushBundle.formatName)' (send what `syspect push` sends)")
        }
        guard bundle.schemaVersion <= serverSchema else {
            throw SiteError(.unprocessableContent, "the push was written by a newer syspect (schema \(bundle.schemaVersion)) than this server knows "
                + "(\(serverSchema)); upgrade the server's syspect, nothing was written")
        }
        guard bundle.schemaVersion >= 1 else { throw .badRequest("schemaVersion \(bundle.schemaVersion) is not a schema version") }
        guard !bundle.explorations.isEmpty else { throw .badRequest("the push holds no exploration") }
        var keys = Set<String>()
        for x in bundle.explorations {
            let e = x.exploration
            let name = "exploration '\(e.key)'"
            guard !e.key.isEmpty, !e.app.isEmpty, !e.workload.isEmpty else {
                throw .badRequest("an exploration has an empty key, app or workload")
            }
            guard keys.insert(e.key).inserted else { throw .badRequest("\(name) appears twice in the push") }
            var probeKeys = Set<String>()
            for p in x.probes {
                guard p.exploration == e.key else { throw .badRequest("a probe of \(name) names exploration '\(p.exploration)'") }
                guard !p.policy.isEmpty, p.replica >= 0 else { throw .badRequest("a probe of \(name) has an empty policy or a negative replica") }
                guard probeKeys.insert("\(p.policy)#\(p.replica)").inserted else {
                    throw .badRequest("probe \(p.policy)#\(p.replica) of \(name) appears twice")
                }
            }
            for r in x.impactRuns where r.exploration != e.key || !["stub", "fake"].contains(r.mode) || r.run < 1 || r.syscall < 0 {
                throw .badRequest("impact run \(r.syscall) \(r.mode) #\(r.run) of \(name) does not belong to it or is malformed")
            }
            for r in x.impactResults where r.exploration != e.key || !["stub", "fake"].contains(r.mode)
                || !["higher", "lower"].contains(r.metricBetter) || r.syscall < 0 {
                throw .badRequest("impact result \(r.syscall) \(r.mode) of \(name) does not belong to it or is malformed")
            }
            if let s = x.staticAnalysis {
                guard s.exploration == e.key else { throw .badRequest("the static analysis of \(name) names exploration '\(s.exploration)'") }
                guard s.analysis.objects.allSatisfy({ $0.path.hasPrefix("/") }) else {
                    throw .badRequest("the static analysis of \(name) has an object whose path is not absolute")
                }
            }
            if let m = x.measurement {
                guard m.app == e.app, m.workload == e.workload, m.kind == e.kind else {
                    throw .badRequest("the measurement sent with \(name) is of \(m.app)/\(m.workload), not \(e.app)/\(e.workload)")
                }
                guard m.source == "syspect" else {
                    throw .badRequest("the measurement of \(name) has source '\(m.source)': only measurements syspect made are pushed")
                }
                let numbers = Array(m.verdicts.keys) + Array(m.staticBinary ?? []) + Array(m.staticSources ?? [])
                guard numbers.allSatisfy({ $0 >= 0 }) else { throw .badRequest("the measurement of \(name) has a negative syscall number") }
            }
            guard x.findings.features.allSatisfy({ $0.use.feature.syscall >= 0 }), x.findings.fakeValues.keys.allSatisfy({ $0 >= 0 }) else {
                throw .badRequest("a sub-feature or fake value of \(name) has a negative syscall number")
            }
            for f in x.findings.files where !f.use.path.hasPrefix("/") {
                throw .badRequest("pseudo-file '\(f.use.path)' of \(name) is not an absolute path")
            }
        }
    }
}
