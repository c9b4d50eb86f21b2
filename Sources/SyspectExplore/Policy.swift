import SyspectCore

/// How a system call is interposed in a probe.
public enum Mode: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Not executed; returns -ENOSYS.
    case stub
    /// Not executed; returns a success value (0).
    case fake

    public static func < (a: Mode, b: Mode) -> Bool { a == .stub && b == .fake }
}

/// One interposition policy: which traced system calls (x86-64 numbers) are stubbed and which
/// faked in a probe. The empty policy is the baseline. Its `key` is the canonical form journaled
/// in `ProbeRecord.policy`:
///
/// | policy | key |
/// |---|---|
/// | nothing interposed | `baseline` |
/// | one call stubbed / faked | `stub:41` / `fake:41` |
/// | several calls, one mode | `group:stub:3,5,7` |
/// | calls in both modes (final run, culprit search) | `set:stub=3,5;fake=7` |
/// | one call faked with its `FakeValues` table value | `plausible:1` |
/// | one sub-feature stubbed / faked, the rest of its call running | `stub@fcntl:cmd=F_SETFD` / `fake@fcntl:cmd=F_SETFD` |
/// | one pseudo-file absent (ENOENT) / stubbed (ENOSYS) | `absent@/proc/self/status` / `stub@/proc/self/status` |
public struct ProbePolicy: Sendable, Hashable, Codable, CustomStringConvertible {
    public var stub: Set<Int>
    public var fake: Set<Int>
    /// A probe of one thing finer than a whole call (or of a non-zero fake value); when set,
    /// `stub` and `fake` are empty.
    public var target: ProbeTarget?

    public init(stub: Set<Int> = [], fake: Set<Int> = []) {
        precondition(stub.isDisjoint(with: fake), "a call is either stubbed or faked, not both")
        self.stub = stub
        self.fake = fake
        self.target = nil
    }

    /// A probe of one sub-feature, pseudo-file or fake value alone.
    public init(target: ProbeTarget) {
        self.stub = []
        self.fake = []
        self.target = target
    }

    public static let baseline = ProbePolicy()

    /// One call in one mode.
    public static func single(_ number: Int, _ mode: Mode) -> ProbePolicy {
        group([number], mode)
    }

    /// Several calls, all in one mode.
    public static func group(_ numbers: Set<Int>, _ mode: Mode) -> ProbePolicy {
        mode == .stub ? ProbePolicy(stub: numbers) : ProbePolicy(fake: numbers)
    }

    /// Calls with a mode each (the final run's and the culprit search's policies).
    public init(assignments: [Assignment]) {
        var stub: Set<Int> = [], fake: Set<Int> = []
        for a in assignments {
            if a.mode == .stub { stub.insert(a.number) } else { fake.insert(a.number) }
        }
        self.init(stub: stub, fake: fake)
    }

    public var isBaseline: Bool { stub.isEmpty && fake.isEmpty && target == nil }
    public var count: Int { stub.count + fake.count + (target == nil ? 0 : 1) }

    public var assignments: [Assignment] {
        (stub.map { Assignment($0, .stub) } + fake.map { Assignment($0, .fake) }).sorted()
    }

    public var key: String {
        func list(_ s: Set<Int>) -> String { s.sorted().map(String.init).joined(separator: ",") }
        if let target { return target.key }
        switch (stub.count, fake.count) {
        case (0, 0): return "baseline"
        case (1, 0): return "stub:\(stub.first!)"
        case (0, 1): return "fake:\(fake.first!)"
        case (_, 0): return "group:stub:\(list(stub))"
        case (0, _): return "group:fake:\(list(fake))"
        default: return "set:stub=\(list(stub));fake=\(list(fake))"
        }
    }

    public var description: String { key }

    /// Parses a canonical key (the inverse of `key`); nil for anything else. A sub-feature key
    /// names its feature only: it parses back when `features` (the census) holds that feature.
    public init?(key: String, features: [SubFeature] = []) {
        if let target = ProbeTarget(key: key, features: features) {
            self.init(target: target)
            return
        }
        func numbers(_ text: Substring) -> Set<Int>? {
            if text.isEmpty { return [] }
            var result: Set<Int> = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let n = Int(part), n >= 0 else { return nil }
                result.insert(n)
            }
            return result
        }
        if key == "baseline" { self.init(); return }
        let parts = key.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        switch parts.first {
        case "stub", "fake":
            guard parts.count == 2, let n = Int(parts[1]), n >= 0 else { return nil }
            self = .single(n, parts[0] == "stub" ? .stub : .fake)
        case "group":
            guard parts.count == 3, let mode = Mode(rawValue: String(parts[1])),
                  let set = numbers(parts[2]), set.count > 1 else { return nil }
            self = .group(set, mode)
        case "set":
            let body = key.dropFirst("set:".count)
            let halves = body.split(separator: ";", omittingEmptySubsequences: false)
            guard halves.count == 2, halves[0].hasPrefix("stub="), halves[1].hasPrefix("fake="),
                  let s = numbers(halves[0].dropFirst(5)), let f = numbers(halves[1].dropFirst(5)),
                  !s.isEmpty, !f.isEmpty, s.isDisjoint(with: f) else { return nil }
            self.init(stub: s, fake: f)
        default:
            return nil
        }
        if self.key != key { return nil }
    }
}

/// One system call in one mode.
public struct Assignment: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var number: Int
    public var mode: Mode

    public init(_ number: Int, _ mode: Mode) {
        self.number = number
        self.mode = mode
    }

    public static func < (a: Assignment, b: Assignment) -> Bool {
        (a.number, a.mode == .fake ? 1 : 0) < (b.number, b.mode == .fake ? 1 : 0)
    }

    public var description: String { "\(mode.rawValue):\(number)" }
}

/// One probe to run: a policy and the replica index (1-based).
public struct ProbeRequest: Sendable, Hashable, Codable, CustomStringConvertible {
    public var policy: ProbePolicy
    public var replica: Int

    public init(_ policy: ProbePolicy, replica: Int) {
        self.policy = policy
        self.replica = replica
    }

    public var description: String { "\(policy.key)#\(replica)" }
}
