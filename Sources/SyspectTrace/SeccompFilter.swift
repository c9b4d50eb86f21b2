import CSyspect
import SyspectCore

/// One classic-BPF instruction (`struct sock_filter`), as a value the builder and tests use.
public struct BPFInstruction: Sendable, Hashable {
    public var code: UInt16
    public var jt: UInt8
    public var jf: UInt8
    public var k: UInt32

    public init(code: UInt16, jt: UInt8 = 0, jf: UInt8 = 0, k: UInt32) {
        self.code = code
        self.jt = jt
        self.jf = jf
        self.k = k
    }

    // Opcodes (linux/bpf_common.h).
    public static let ldAbsW: UInt16 = 0x20  // BPF_LD | BPF_W | BPF_ABS
    public static let jeqK: UInt16 = 0x15  // BPF_JMP | BPF_JEQ | BPF_K
    public static let jgeK: UInt16 = 0x35  // BPF_JMP | BPF_JGE | BPF_K
    public static let andK: UInt16 = 0x54  // BPF_ALU | BPF_AND | BPF_K
    public static let retK: UInt16 = 0x06  // BPF_RET | BPF_K

    static func load(_ offset: UInt32) -> Self { .init(code: ldAbsW, k: offset) }
    static func ret(_ value: UInt32) -> Self { .init(code: retK, k: value) }
    static func jeq(_ value: UInt32, _ jt: Int, _ jf: Int) -> Self {
        .init(code: jeqK, jt: UInt8(jt), jf: UInt8(jf), k: value)
    }
}

/// What the filter does with a matched call (`SECCOMP_RET_*`).
public enum FilterAction: Sendable, Hashable {
    case allow
    /// Stop for the tracer; `data` reaches it as `SECCOMP_RET_DATA`.
    case trace(data: UInt16)
    /// Fail (or, with 0, succeed with 0) without running; the kernel returns `-errno`.
    case errno(UInt16)
    case killProcess

    var returnValue: UInt32 {
        switch self {
        case .allow: return 0x7fff_0000
        case .trace(let data): return 0x7ff0_0000 | UInt32(data)
        case .errno(let e): return 0x0005_0000 | UInt32(e)
        case .killProcess: return 0x8000_0000
        }
    }
}

/// One x86-64 call (optionally only when all `conditions` hold) and what to do with it.
public struct FilterRule: Sendable, Hashable {
    public var number: Int
    public var conditions: [ArgumentCondition]
    public var action: FilterAction

    public init(number: Int, conditions: [ArgumentCondition] = [], action: FilterAction) {
        self.number = number
        self.conditions = conditions
        self.action = action
    }
}

/// A seccomp filter: the arch is checked first (i386 and x32 calls have their own numbers and
/// defaults), then x86-64 rules in order, each ending in its own `ret` so that no jump exceeds
/// 255 instructions however many rules there are.
public struct SeccompFilter: Sendable, Hashable {
    public var rules: [FilterRule] = []
    /// For x86-64 calls no rule matched.
    public var x86_64Default: FilterAction = .allow
    /// For every `int $0x80` call.
    public var i386Default: FilterAction = .allow
    /// For every x32 call (number with bit 30 set).
    public var x32Default: FilterAction = .allow
    /// x86-64 numbers from this one up (below the x32 bit) that no rule matched get
    /// `highNumberAction` instead of `x86_64Default` (nil: none do).
    public var highNumberStart: Int? = nil
    public var highNumberAction: FilterAction = .allow

    public init(rules: [FilterRule] = [], x86_64Default: FilterAction = .allow,
                i386Default: FilterAction = .allow, x32Default: FilterAction = .allow) {
        self.rules = rules
        self.x86_64Default = x86_64Default
        self.i386Default = i386Default
        self.x32Default = x32Default
    }

    /// Nothing is trapped or changed: no filter needs installing.
    public var isNoOp: Bool {
        rules.allSatisfy { $0.action == .allow } && x86_64Default == .allow && i386Default == .allow
            && x32Default == .allow && (highNumberStart == nil || highNumberAction == .allow)
    }

    // struct seccomp_data offsets.
    static let nrOffset: UInt32 = 0
    static let archOffset: UInt32 = 4
    static func argOffset(_ index: Int, high: Bool) -> UInt32 { 16 + 8 * UInt32(index) + (high ? 4 : 0) }

    /// The BPF program.
    public func instructions() -> [BPFInstruction] {
        var p: [BPFInstruction] = [
            .load(Self.archOffset),
            .jeq(Arch.x86_64.auditArch, 3, 0),  // → x86-64 block
            .jeq(Arch.i386.auditArch, 0, 1),
            .ret(i386Default.returnValue),
            .ret(FilterAction.killProcess.returnValue),  // an arch this kernel cannot run here
            .load(Self.nrOffset),
            .init(code: BPFInstruction.jgeK, jt: 0, jf: 1, k: UInt32(SyscallTable.x32Bit)),
            .ret(x32Default.returnValue),
        ]
        for rule in rules { p += Self.block(for: rule) }  // each leaves nr in the accumulator
        if let start = highNumberStart {
            p += [.init(code: BPFInstruction.jgeK, jt: 0, jf: 1, k: UInt32(start)), .ret(highNumberAction.returnValue)]
        }
        p.append(.ret(x86_64Default.returnValue))
        return p
    }

    /// `jeq nr` + conditions + `ret`; with conditions, a trailing reload of nr that every
    /// mismatch jumps to (the argument loads clobbered the accumulator).
    static func block(for rule: FilterRule) -> [BPFInstruction] {
        let nr = UInt32(rule.number)
        guard !rule.conditions.isEmpty else {
            return [.jeq(nr, 0, 1), .ret(rule.action.returnValue)]
        }
        var body: [BPFInstruction] = []
        for condition in rule.conditions {
            for high in [false, true] {
                let mask = UInt32(truncatingIfNeeded: high ? condition.mask >> 32 : condition.mask)
                let value = UInt32(truncatingIfNeeded: high ? condition.value >> 32 : condition.value)
                body.append(.load(argOffset(condition.index, high: high)))
                if mask != .max { body.append(.init(code: BPFInstruction.andK, k: mask)) }
                body.append(.jeq(value, 0, 0))  // jf patched below
            }
        }
        body.append(.ret(rule.action.returnValue))
        // Patch each mismatch to jump to the reload after `ret`.
        for i in body.indices where body[i].code == BPFInstruction.jeqK {
            let distance = body.count - i - 1
            precondition(distance <= 255, "too many argument conditions in one rule")
            body[i].jf = UInt8(distance)
        }
        precondition(body.count <= 255, "too many argument conditions in one rule")
        return [.jeq(nr, 0, body.count + 1)] + body + [.load(nrOffset)]
    }

    /// The same program as C `struct sock_filter` values for `csy_launch`.
    func sockFilters() -> [sock_filter] {
        instructions().map { sock_filter(code: $0.code, jt: $0.jt, jf: $0.jf, k: $0.k) }
    }
}
