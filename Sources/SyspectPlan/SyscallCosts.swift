import SyspectCore

/// Per-syscall implementation costs (`--costs FILE`): the plan minimises their sum instead of
/// the number of implemented syscalls. Unlisted syscalls cost `defaultCost` (1).
public struct SyscallCosts: Sendable, Hashable, Codable {
    public var costs: [Int: Double]
    public var defaultCost: Double

    public init(costs: [Int: Double] = [:], defaultCost: Double = 1) {
        self.costs = costs
        self.defaultCost = defaultCost
    }

    /// Every syscall costs 1: the objective is the number of implemented syscalls.
    public static let uniform = SyscallCosts()

    public func cost(of syscall: Int) -> Double { costs[syscall] ?? defaultCost }

    /// True when every syscall costs the same (counts and costs then agree up to a factor).
    public var isUniform: Bool { costs.values.allSatisfy { $0 == defaultCost } }

    /// Parses a weights file: `name_or_number cost` per line, `#` comments, blank lines ignored.
    /// Costs are non-negative numbers. A later line for the same syscall wins.
    public static func parse(text: String, source: String = "costs") throws(PlanInputError) -> SyscallCosts {
        var costs: [Int: Double] = [:]
        // "\r\n" is one Character: split on it too, or a CRLF file would be a single line.
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = raw.prefix { $0 != "#" }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            let where_ = "\(source):\(index + 1)"
            guard fields.count == 2 else {
                throw .badCostLine(where_, "expected 'name_or_number cost', found \(fields.count) field(s)")
            }
            let key = String(fields[0])
            guard let number = Int(key) ?? SyscallTable.number(named: key) else {
                let hint = SyscallNameSuggestions.closest(to: key)
                throw .badCostLine(where_, "unknown syscall '\(InputText.escaped(key))'" + (hint.isEmpty ? "" : " (closest: \(hint.joined(separator: ", ")))"))
            }
            guard let cost = Double(fields[1]), cost >= 0, cost.isFinite else {
                throw .badCostLine(where_, "cost '\(InputText.escaped(fields[1]))' is not a non-negative number")
            }
            costs[number] = cost
        }
        return SyscallCosts(costs: costs)
    }
}

/// Bad plan input: one line naming the problem and the fix.
public enum PlanInputError: Error, Sendable, Equatable, CustomStringConvertible {
    case badCostLine(String, String)
    case unknownApps([String], suggestions: [String: [String]])
    case noTargets(String)
    case tooManySyscalls(Int)

    public var description: String {
        switch self {
        case .badCostLine(let place, let why):
            return "\(place): \(why); each line is '<syscall name or number> <cost>'"
        case .unknownApps(let names, let suggestions):
            let parts = names.map { name in
                let hint = suggestions[name] ?? []
                return hint.isEmpty ? "'\(name)'" : "'\(name)' (closest: \(hint.joined(separator: ", ")))"
            }
            return "unknown application(s) \(parts.joined(separator: ", ")); use loupedb application names (e.g. nginx, redis) or '*'"
        case .noTargets(let why):
            return "no application to plan for: \(why)"
        case .tooManySyscalls(let n):
            return "the measurements trace \(n) distinct syscalls; plans support at most \(Bits.capacity)"
        }
    }
}
