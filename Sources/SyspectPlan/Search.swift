/// One state on a plan path: the app the step was taken for and the apps it added.
struct PathNode {
    var state: PlanState
    /// The app the step targeted (nil for step 0, the apps the OS runs as it is).
    var target: Int?
    /// Apps newly supported by this step (the target first, then the apps that came for free).
    var added: [Int]
}

enum Searches {
    /// The paper's greedy rule under header semantics: next app = the one with the fewest
    /// (cheapest) syscalls left to implement, ties by name; apps that then need nothing more
    /// join in the same step.
    static func greedy(_ m: PlanModel) -> [PathNode] {
        var state = PlanState(appCount: m.appCount)
        let initial = state.close(m)
        var path = [PathNode(state: state, target: nil, added: initial)]
        while state.members.count < m.appCount {
            var best: (app: Int, cost: Double)?
            for a in 0..<m.appCount where !state.members.contains(a) {
                let c = m.cost(state.marginal(a, m))
                if best == nil || c < best!.cost { best = (a, c) }
            }
            state.add(best!.app, m)
            let free = state.close(m)
            path.append(PathNode(state: state, target: best!.app, added: [best!.app] + free))
        }
        return path
    }

    /// The cost to support at least N apps along `path`, for N = 0...appCount.
    static func curve(_ path: [PathNode], appCount: Int) -> [Double] {
        var curve = [Double](repeating: 0, count: appCount + 1)
        var reached = 0
        for node in path {
            let count = node.state.members.count
            if count > reached {
                for n in (reached + 1)...count { curve[n] = node.state.cost }
                reached = count
            }
        }
        return curve
    }

    /// Beam search over supported-app sets, level by level (number of apps supported).
    ///
    /// Every level keeps the `beamWidth` cheapest states (then smallest area under the curve so
    /// far) plus the greedy path's own state, which is never evicted. A state expands into the
    /// `candidates` cheapest next apps (distinct marginal sets), each followed by the apps that
    /// become free. A transition is allowed only if its cost does not exceed the greedy curve at
    /// the first level it reaches, so the result is never worse than greedy for any N; among
    /// the complete plans found it returns the one with the smallest area (sum over N of the
    /// cost to reach N apps).
    static func beam(_ m: PlanModel, greedy: [PathNode], beamWidth: Int, candidates: Int) -> [PathNode] {
        let bound = curve(greedy, appCount: m.appCount)
        var store = BeamStore(levels: m.appCount + 1)
        // Seed with the greedy path (protected), which guarantees a feasible complete plan.
        var parent = -1
        var previousCount = 0
        for node in greedy {
            let count = node.state.members.count
            let area = parent < 0 ? 0 : store.nodes[parent].area + Double(count - previousCount) * node.state.cost
            parent = store.offer(node, area: area, parent: parent, protected: true)
            previousCount = count
        }
        let epsilon = 1e-9
        for level in 0..<m.appCount {
            for index in store.beam(level: level, width: beamWidth) {
                let from = store.nodes[index]
                let state = from.node.state
                let marginals = (0..<m.appCount).map { state.members.contains($0) ? Bits.empty : state.marginal($0, m) }
                for a in nextApps(state, marginals, m, limit: candidates) {
                    var child = state
                    child.add(a, m)
                    guard child.cost <= bound[level + 1] + epsilon else { continue }
                    let free = child.close(m, before: marginals, grown: marginals[a])
                    let area = from.area + Double(child.members.count - level) * child.cost
                    _ = store.offer(PathNode(state: child, target: a, added: [a] + free), area: area, parent: index, protected: false)
                }
            }
        }
        return store.bestPath(level: m.appCount)
    }

    /// The `limit` apps cheapest to add next (ties by index), one per distinct marginal set.
    static func nextApps(_ state: PlanState, _ marginals: [Bits], _ m: PlanModel, limit: Int) -> [Int] {
        var seen = Set<Bits>()
        var options: [(app: Int, cost: Double)] = []
        for a in 0..<m.appCount where !state.members.contains(a) {
            let extra = marginals[a]
            if seen.insert(extra).inserted { options.append((a, m.cost(extra))) }
        }
        options.sort { $0.cost != $1.cost ? $0.cost < $1.cost : $0.app < $1.app }
        return options.prefix(limit).map(\.app)
    }
}

/// The states of a beam search, de-duplicated by app set within each level.
private struct BeamStore {
    struct Entry {
        var node: PathNode
        var area: Double
        var parent: Int
        var protected: Bool
    }
    var nodes: [Entry] = []
    var byLevel: [[AppSet: Int]]

    init(levels: Int) { byLevel = Array(repeating: [:], count: levels) }

    /// Adds a state, or keeps the existing one for the same app set with the smaller area.
    mutating func offer(_ node: PathNode, area: Double, parent: Int, protected: Bool) -> Int {
        let level = node.state.members.count
        if let existing = byLevel[level][node.state.members] {
            if area < nodes[existing].area {
                nodes[existing].node = node
                nodes[existing].area = area
                nodes[existing].parent = parent
            }
            nodes[existing].protected = nodes[existing].protected || protected
            return existing
        }
        nodes.append(Entry(node: node, area: area, parent: parent, protected: protected))
        byLevel[level][node.state.members] = nodes.count - 1
        return nodes.count - 1
    }

    /// The states of a level to expand: the `width` best by (cost, area, age) plus protected ones.
    func beam(level: Int, width: Int) -> [Int] {
        let ranked = byLevel[level].values.sorted { a, b in
            let x = nodes[a], y = nodes[b]
            if x.node.state.cost != y.node.state.cost { return x.node.state.cost < y.node.state.cost }
            if x.area != y.area { return x.area < y.area }
            return a < b
        }
        return Array(ranked.prefix(width)) + ranked.dropFirst(width).filter { nodes[$0].protected }
    }

    /// The path to the complete state with the smallest area.
    func bestPath(level: Int) -> [PathNode] {
        guard let best = byLevel[level].values.min(by: { nodes[$0].area != nodes[$1].area ? nodes[$0].area < nodes[$1].area : $0 < $1 }) else {
            return []
        }
        var path: [PathNode] = []
        var index = best
        while index >= 0 {
            path.append(nodes[index].node)
            index = nodes[index].parent
        }
        return path.reversed()
    }
}
