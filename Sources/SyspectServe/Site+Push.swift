import Foundation
import SyspectCore
import SyspectStore

extension Site {
    /// Merges a push (`PushBundle` JSON) into the store by `PushMerge`'s rules, for the token
    /// `token`. Nothing is written when the body is malformed, written by a newer syspect, or
    /// inconsistent with what the server holds (4xx naming the problem).
    public func push(body: Data, token: String) throws(SiteError) -> PushSummary {
        let bundle: PushBundle
        do {
            bundle = try PushBundle.decoder().decode(PushBundle.self, from: body)
        } catch {
            throw .badRequest("the push is not a valid syspect push: \(RequestInput.describe(error)); send what `syspect push` sends")
        }
        try PushMerge.validate(bundle)
        guard let store = sqlStore else { throw SiteError(.forbidden, "this server has no database to push into: start it with --db") }
        pushLock.lock()
        defer { pushLock.unlock() }
        do {
            var plans: [MergePlan] = []
            for pushed in bundle.explorations {
                let state = try serverState(store, pushed.exploration)
                if let held = state.record {
                    let e = pushed.exploration
                    guard held.app == e.app, held.workload == e.workload, held.specHash == e.specHash else {
                        throw SiteError(.conflict, "exploration '\(e.key)' on the server is of \(held.app)/\(held.workload) spec \(held.specHash), "
                            + "the pushed one of \(e.app)/\(e.workload) spec \(e.specHash); nothing was written")
                    }
                }
                plans.append(PushMerge.plan(pushed, server: state))
            }
            for plan in plans { try apply(plan, store) }
            let summary = PushSummary(
                token: token, explorations: plans.map(\.summary), probesAdded: plans.reduce(0) { $0 + $1.summary.probesAdded },
                probesKept: plans.reduce(0) { $0 + $1.summary.conflicts.count })
            try store.recordPush(PushLogEntry(
                tokenName: token, receivedAt: Date(), explorations: plans.count, probesAdded: summary.probesAdded,
                probesKept: summary.probesKept, summaryJSON: String(decoding: try SiteJSON.encode(summary), as: UTF8.self)))
            invalidate()
            return summary
        } catch let error as SiteError {
            invalidate()
            throw error
        } catch {
            invalidate()
            throw Self.storeFailure(error)
        }
    }

    private func serverState(_ store: SQLResultStore, _ e: ExplorationRecord) throws -> ServerExplorationState {
        let others = try store.explorations(app: e.app).filter { $0.workload == e.workload && $0.key != e.key }
        let hasMeasurement = try store.measurements(apps: [e.app], kind: nil)
            .contains { $0.workload == e.workload && $0.source == "syspect" }
        guard let record = try store.exploration(key: e.key) else {
            return ServerExplorationState(hasMeasurement: hasMeasurement, otherFinished: others.compactMap(\.finishedAt))
        }
        return ServerExplorationState(
            record: record, probes: try store.probes(exploration: e.key), findings: try store.findings(exploration: e.key),
            impactRuns: try store.impactRuns(exploration: e.key), impactResults: try store.impactResults(exploration: e.key),
            staticAnalysis: try store.staticAnalysis(exploration: e.key), hasMeasurement: hasMeasurement,
            otherFinished: others.compactMap(\.finishedAt))
    }

    /// The writes of one plan, each a union with what is stored (a push cut short is completed
    /// by pushing again).
    private func apply(_ plan: MergePlan, _ store: SQLResultStore) throws {
        if plan.create { try store.beginExploration(plan.record) } else { try store.updateExploration(plan.record) }
        for probe in plan.probes { try store.record(probe) }
        if let findings = plan.findings { try store.saveFindings(findings, exploration: plan.record.key) }
        for run in plan.impactRuns { try store.recordImpactRun(run) }
        if !plan.impactResults.isEmpty { try store.saveImpact(plan.impactResults) }
        if let s = plan.staticAnalysis { try store.saveStatic(s) }
        if let m = plan.measurement { try store.save(m) }
    }
}
