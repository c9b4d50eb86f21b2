// Times support plans for every application on every bundled OS support list (run by
// benchmarks/plan-speed.sh in a release build). Baseline: the paper's greedy rule, computed in
// the same run on the same data.
import Foundation
import SyspectCore
import SyspectPlan

let repetitions = max(1, Int(CommandLine.arguments.dropFirst().first ?? "") ?? 5)

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

var data = BundledLoupedb.dataset
let decode = seconds { data = BundledLoupedb.decodeBundled() }
let targets = try Planner.targets(from: data.measurements, workload: .all)
let lists = data.osSupport.keys.sorted().map { data.osSupport[$0]! }

func planAll(_ strategy: PlanStrategy) throws -> [SupportPlan] {
    try lists.map { try Planner.plan(targets: targets, os: $0, strategy: strategy) }
}

var searchTimes: [Double] = [], greedyTimes: [Double] = []
var ours: [SupportPlan] = [], greedy: [SupportPlan] = []
for _ in 0..<repetitions {
    greedyTimes.append(try seconds { greedy = try planAll(.greedy) })
    searchTimes.append(try seconds { ours = try planAll(.search) })
}
let search = median(searchTimes), base = median(greedyTimes)
print("plans: \(targets.count) apps x \(lists.count) OS lists (workload all), median of \(repetitions) runs")
print(String(format: "  bundled data decode:        %8.1f ms", decode * 1000))
print(String(format: "  greedy baseline, all lists: %8.1f ms", base * 1000))
print(String(format: "  syspect search, all lists:  %8.1f ms   (%.1fx greedy's time)", search * 1000, search / base))
for (o, g) in zip(ours, greedy) {
    let better = o.curve.indices.filter { o.curve[$0] < g.curve[$0] }.count
    let worse = o.curve.indices.filter { o.curve[$0] > g.curve[$0] }.count
    let area = { (p: SupportPlan) in Int(p.curve.reduce(0, +)) }
    print("  \(o.os.padding(toLength: 17, withPad: " ", startingAt: 0)) area under curve: ours \(area(o)) vs greedy \(area(g)) (\(String(format: "%.1f", 100 * Double(area(g) - area(o)) / Double(max(1, area(g)))))% less); fewer syscalls for \(better) of \(targets.count) N; more for \(worse)")
}
print(search < 1.0 ? "goal met: all plans in under one second" : "GOAL MISSED: all plans took one second or more")
