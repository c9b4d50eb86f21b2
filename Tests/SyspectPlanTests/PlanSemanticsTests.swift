import Testing
@testable import SyspectCore
@testable import SyspectPlan

/// Small hand-made measurements (syscall numbers are real x86-64 ones for readable names).
enum Toy {
    static func target(_ app: String, _ verdicts: [Int: Verdict]) -> PlanTarget {
        PlanTarget(app: app, workloads: ["benchmark-x"], verdicts: verdicts)
    }
    static let none = OSSupport(name: "none", syscalls: [])

    /// Every claim of every step runs under the decisions in force after that step.
    static func claimsRun(_ plan: SupportPlan, _ targets: [PlanTarget], _ os: OSSupport) -> Bool {
        let byName = Dictionary(uniqueKeysWithValues: targets.map { ($0.app, $0) })
        return plan.steps.allSatisfy { step in
            let decisions = plan.decisions(afterStep: step.step)
            return plan.supported(afterStep: step.step).allSatisfy { runs(byName[$0]!, os: os, decisions: decisions) }
        }
    }
}

@Suite("plan semantics on hand-made measurements")
struct PlanSemanticsTests {
    @Test("stub-only for one app and fake-only for another: implemented, with the reason")
    func stubFakeConflict() throws {
        // accept4 (288): a tolerates only stub, b only fake; both need read (0) implemented.
        let targets = [Toy.target("a", [0: .required, 288: .stub]), Toy.target("b", [0: .required, 288: .fake])]
        let plan = try Planner.plan(targets: targets, os: OSSupport(name: "os", syscalls: [0]))
        let decided = plan.steps.flatMap(\.implement)
        #expect(decided.map(\.number) == [288])
        #expect(decided.first?.reason == "stub-only for a, fake-only for b")
        #expect(decided.first?.previous == .stub)
        #expect(plan.finalDecisions == [288: .implement])
        #expect(Toy.claimsRun(plan, targets, OSSupport(name: "os", syscalls: [0])))
    }

    @Test("a syscall the OS supports needs no decision; one app requiring it means implement")
    func requiredAndSupported() throws {
        let targets = [Toy.target("a", [0: .required, 1: .required, 39: .either]), Toy.target("b", [39: .required])]
        let os = OSSupport(name: "os", syscalls: [0])
        let plan = try Planner.plan(targets: targets, os: os)
        #expect(plan.finalDecisions == [1: .implement, 39: .implement])
        #expect(plan.steps.last?.implementedCount == 2)
        #expect(plan.curve == [0, 1, 2])
        #expect(Toy.claimsRun(plan, targets, os))
    }

    @Test("a stub decision is upgraded to implement when a later app requires it; earlier apps stay supported")
    func upgrade() throws {
        // cheap: needs write (1) implemented and tolerates only a stubbed getpid (39).
        // later: needs 1, 2, and 39 implemented.
        let targets = [Toy.target("cheap", [1: .required, 39: .stub]), Toy.target("later", [1: .required, 2: .required, 39: .required])]
        let plan = try Planner.plan(targets: targets, os: Toy.none)
        #expect(plan.steps.count == 3)
        #expect(plan.steps[1].stub.map(\.number) == [39])
        let upgraded = try #require(plan.steps[2].implement.first { $0.number == 39 })
        #expect(upgraded.previous == .stub)
        #expect(upgraded.reason == "required by later")
        #expect(plan.supported(afterStep: 2) == ["cheap", "later"])
        #expect(Toy.claimsRun(plan, targets, Toy.none))
    }

    @Test("either is stubbed, becomes fake (free) when a fake-only app joins, then implemented on a conflict")
    func eitherThenFakeThenConflict() throws {
        let targets = [Toy.target("a", [39: .either]), Toy.target("b", [0: .required, 39: .fake]),
                       Toy.target("c", [1: .required, 39: .stub])]
        let plan = try Planner.plan(targets: targets, os: Toy.none)
        #expect(plan.steps[0].stub.map(\.number) == [39])
        #expect(plan.steps[0].stub.first?.reason == "stub or fake for every supported app")
        let changed = try #require(plan.steps[1].fake.first)
        #expect(changed.number == 39 && changed.previous == .stub && changed.reason == "fake-only for b")
        let implemented = try #require(plan.steps[2].implement.first { $0.number == 39 })
        #expect(implemented.previous == .fake && implemented.reason == "stub-only for c, fake-only for b")
        #expect(plan.curve == [0, 0, 1, 3])
        #expect(Toy.claimsRun(plan, targets, Toy.none))
    }

    @Test("either is shown as fake when more apps need it faked than stubbed")
    func eitherPreferFake() throws {
        let targets = [Toy.target("a", [39: .either]), Toy.target("b", [0: .required, 39: .fake])]
        let plan = try Planner.plan(targets: targets, os: Toy.none)
        #expect(plan.steps[0].fake.map(\.number) == [39])
        #expect(plan.steps[1].fake.isEmpty && plan.steps[1].stub.isEmpty)
        #expect(Toy.claimsRun(plan, targets, Toy.none))
    }

    @Test("apps that conflict with no syscall implemented are not both claimed at step 0")
    func conflictAtStepZero() throws {
        let targets = [Toy.target("a", [39: .stub]), Toy.target("b", [39: .fake])]
        let plan = try Planner.plan(targets: targets, os: Toy.none)
        #expect(plan.steps[0].newlySupported == ["a"])
        #expect(plan.steps[1].implement.map(\.number) == [39])
        #expect(Toy.claimsRun(plan, targets, Toy.none))
    }

    @Test("the search beats the greedy rule where greedy's tie-break is myopic")
    func beatsGreedy() throws {
        // A {read}, B {write}, C and D {read, open}. Greedy: A (1), B (2), C+D (3).
        // Better: A (1), then open brings C and D: 3 apps for 2 syscalls.
        let targets = [Toy.target("A", [0: .required]), Toy.target("B", [1: .required]),
                       Toy.target("C", [0: .required, 2: .required]), Toy.target("D", [0: .required, 2: .required])]
        let greedy = try Planner.plan(targets: targets, os: Toy.none, strategy: .greedy)
        let ours = try Planner.plan(targets: targets, os: Toy.none)
        #expect(greedy.curve == [0, 1, 2, 3, 3])
        #expect(ours.curve == [0, 1, 2, 2, 3])
        #expect(ours.steps.map(\.target) == [nil, "A", "C", "B"])
        let comparison = try Planner.compare(targets: targets, os: Toy.none)
        #expect(comparison.oursBetter == [3])
        #expect(comparison.oursWorse.isEmpty)
    }

    @Test("costs change the objective")
    func weighted() throws {
        let targets = [Toy.target("a", [59: .required]), Toy.target("b", [0: .required, 1: .required])]
        let uniform = try Planner.plan(targets: targets, os: Toy.none)
        #expect(uniform.steps[1].target == "a")
        let costs = try SyscallCosts.parse(text: "execve 10  # hard\n0 1\nwrite 1\n")
        let weighted = try Planner.plan(targets: targets, os: Toy.none, costs: costs)
        #expect(weighted.steps[1].target == "b")
        #expect(weighted.curve == [0, 2, 12])
        #expect(weighted.steps[1].implement.map(\.cost) == [1, 1])
    }

    @Test("the original tool's semantics: conflicts dropped, labels swapped, broken claims found")
    func originalSemantics() throws {
        // a tolerates only stub for getpid (39): the original fakes it (swapped), so a does not
        // run. (b, fake-only, is then stubbed by it; b gets the benefit of the doubt.)
        let targets = [Toy.target("a", [39: .stub]), Toy.target("b", [39: .fake])]
        let c = try Planner.compare(targets: targets, os: Toy.none)
        #expect(c.original == [0, 0, 0])
        #expect(c.ours == [0, 0, 1])
        #expect(c.originalBrokenClaims == ["a"])
    }
}

@Suite("targets, importance, costs")
struct PlanInputTests {
    static let measurements = [
        Measurement(app: "web", workload: "benchmark-wrk", kind: .benchmark, verdicts: [0: .required, 288: .stub, 39: .either], source: "t"),
        Measurement(app: "web", workload: "suite", kind: .suite, verdicts: [0: .required, 288: .fake, 2: .required], source: "t"),
        Measurement(app: "db", workload: "suite", kind: .suite, verdicts: [0: .required, 39: .stub], source: "t"),
    ]

    @Test("workloads of one app combine: stub-only in one and fake-only in another means required")
    func combine() throws {
        let all = try Planner.targets(from: Self.measurements, workload: .all)
        let web = try #require(all.first { $0.app == "web" })
        #expect(web.workloads == ["benchmark-wrk", "suite"])
        #expect(web.verdicts == [0: .required, 288: .required, 39: .either, 2: .required])
        #expect(web.workloadConflicts == [288])
        #expect(try Planner.targets(from: Self.measurements, workload: .benchmark).map(\.app) == ["web"])
        #expect(try Planner.targets(from: Self.measurements, workload: .suite).map(\.app) == ["db", "web"])
    }

    @Test("unknown apps are named with suggestions; an app lacking the workload kind is an error")
    func unknownApps() {
        #expect(throws: PlanInputError.unknownApps(["webb"], suggestions: ["webb": ["web"]])) {
            try Planner.targets(from: Self.measurements, workload: .all, apps: ["db", "webb"])
        }
        #expect {
            try Planner.targets(from: Self.measurements, workload: .benchmark, apps: ["db"])
        } throws: { "\($0)".contains("db has no benchmark workload") }
    }

    @Test("API importance: required and traced shares")
    func importance() throws {
        let rows = APIImportance.compute(try Planner.targets(from: Self.measurements, workload: .all))
        let read = try #require(rows.first)
        #expect(read.number == 0 && read.requiredBy == 2 && read.tracedBy == 2 && read.requiredShare == 1)
        let getpid = try #require(rows.first { $0.number == 39 })
        #expect(getpid.requiredBy == 0 && getpid.tracedBy == 2)
        #expect(APIImportance.totals(rows) == (required: 3, traced: 4))
    }

    @Test("costs file errors name the line")
    func badCosts() {
        #expect(throws: PlanInputError.badCostLine("c:2", "unknown syscall 'raed' (closest: read, rseq)")) {
            try SyscallCosts.parse(text: "read 1\nraed 2\n", source: "c")
        }
        #expect(throws: PlanInputError.badCostLine("c:1", "cost '-1' is not a non-negative number")) {
            try SyscallCosts.parse(text: "read -1", source: "c")
        }
        #expect(throws: PlanInputError.badCostLine("c:1", "expected 'name_or_number cost', found 1 field(s)")) {
            try SyscallCosts.parse(text: "read", source: "c")
        }
    }

    @Test("text grids: aligned table with wrapping, markdown, csv quoting")
    func grids() {
        let grid = TextGrid(header: ["Step", "Stub"], rows: [["1", "read (0), write (1), open (2)"]], numeric: [0])
        #expect(grid.render(.table, wrap: 18) == "Step  Stub\n----  ----------\n   1  read (0),\n      write (1),\n      open (2)\n")
        #expect(grid.render(.markdown) == "| Step | Stub |\n|---:|---|\n| 1 | read (0), write (1), open (2) |\n")
        #expect(grid.render(.csv) == "Step,Stub\n1,\"read (0), write (1), open (2)\"\n")
    }
}
