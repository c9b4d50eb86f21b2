import Testing
@testable import SyspectTrace
import SyspectCore

/// Runs the classic-BPF subset the builder emits on one `seccomp_data`, like the kernel does.
struct BPFInterpreter {
    var nr: UInt32
    var arch: UInt32
    var args: [UInt64] = Array(repeating: 0, count: 6)

    func word(at offset: UInt32) -> UInt32 {
        switch offset {
        case 0: return nr
        case 4: return arch
        default:
            let index = Int(offset - 16) / 8
            let high = (offset - 16) % 8 == 4
            return UInt32(truncatingIfNeeded: high ? args[index] >> 32 : args[index])
        }
    }

    func run(_ program: [BPFInstruction]) -> UInt32 {
        var a: UInt32 = 0
        var pc = 0
        while pc < program.count {
            let i = program[pc]
            switch i.code {
            case BPFInstruction.ldAbsW: a = word(at: i.k)
            case BPFInstruction.andK: a &= i.k
            case BPFInstruction.jeqK: pc += Int(a == i.k ? i.jt : i.jf)
            case BPFInstruction.jgeK: pc += Int(a >= i.k ? i.jt : i.jf)
            case BPFInstruction.retK: return i.k
            default: Issue.record("unexpected opcode \(i.code)"); return 0
            }
            pc += 1
        }
        Issue.record("fell off the end of the program")
        return 0
    }
}

@Suite struct SeccompFilterTests {
    let trace = FilterAction.trace(data: 0).returnValue
    let allow = FilterAction.allow.returnValue

    func x86(_ nr: Int, _ args: [UInt64] = Array(repeating: 0, count: 6)) -> BPFInterpreter {
        BPFInterpreter(nr: UInt32(nr), arch: Arch.x86_64.auditArch, args: args)
    }

    @Test func archIsCheckedBeforeTheNumber() {
        // 20 is writev on x86-64 and getpid on i386: an x86-64 rule must not catch the i386 call.
        let filter = SeccompFilter(rules: [FilterRule(number: 20, action: .errno(38))], i386Default: .trace(data: 0))
        let program = filter.instructions()
        #expect(x86(20).run(program) == FilterAction.errno(38).returnValue)
        #expect(BPFInterpreter(nr: 20, arch: Arch.i386.auditArch).run(program) == trace)
        #expect(x86(39).run(program) == allow)
    }

    /// The eBPF census counts numbers below 1024 only: the filter traps the others for the
    /// tracer, after the rules (a rule with conditions leaves the number reloaded).
    @Test func highNumbersTakeTheirOwnAction() {
        var filter = SeccompFilter(rules: [FilterRule(number: 16, conditions: [ArgumentCondition(index: 1, value: 0x5401)],
                                                      action: .errno(25))])
        (filter.highNumberStart, filter.highNumberAction) = (1024, .trace(data: 0))
        let program = filter.instructions()
        #expect(x86(1024).run(program) == trace)
        #expect(x86(2000).run(program) == trace)
        #expect(x86(1023).run(program) == allow)
        #expect(x86(16).run(program) == allow, "the rule's condition does not hold")
        #expect(x86(16, [0, 0x5401, 0, 0, 0, 0]).run(program) == FilterAction.errno(25).returnValue)
        #expect(!filter.isNoOp)
        filter.highNumberAction = .allow
        #expect(x86(2000).run(filter.instructions()) == allow)
    }

    @Test func x32CallsTakeTheirOwnDefault() {
        let filter = SeccompFilter(rules: [FilterRule(number: 39, action: .errno(38))], x32Default: .trace(data: 0))
        let program = filter.instructions()
        #expect(x86(39 | SyscallTable.x32Bit).run(program) == trace)
        #expect(x86(39).run(program) == FilterAction.errno(38).returnValue)
    }

    @Test func manyRulesNeverNeedALongJump() {
        let rules = SyscallTable.x86_64Numbers.map { FilterRule(number: $0, action: .errno(UInt16($0 % 4096))) }
        let program = SeccompFilter(rules: rules, x86_64Default: .trace(data: 0)).instructions()
        #expect(program.count > 255 * 2)
        for n in SyscallTable.x86_64Numbers {
            #expect(x86(n).run(program) == FilterAction.errno(UInt16(n % 4096)).returnValue)
        }
        #expect(x86(999).run(program) == trace)
    }

    @Test func argumentConditionsCompareBothHalves() {
        // ioctl(fd, request) with a request above INT_MAX (the original tool compared an int).
        let request: UInt64 = 0x8000_0000_4004_667E
        let rule = FilterRule(number: 16, conditions: [ArgumentCondition(index: 1, value: request)], action: .errno(25))
        let program = SeccompFilter(rules: [rule], x86_64Default: .trace(data: 0)).instructions()
        #expect(x86(16, [0, request, 0, 0, 0, 0]).run(program) == FilterAction.errno(25).returnValue)
        #expect(x86(16, [0, request & 0xFFFF_FFFF, 0, 0, 0, 0]).run(program) == trace)
        #expect(x86(16, [0, request ^ 1, 0, 0, 0, 0]).run(program) == trace)
    }

    @Test func maskedConditionsAndFallThroughToLaterRules() {
        // fcntl(fd, F_SETFL, flags & O_NONBLOCK) faked, other fcntl calls stubbed.
        let nonblock = FilterRule(number: 72, conditions: [ArgumentCondition(index: 1, value: 4),
                                                           ArgumentCondition(index: 2, value: 0o4000, mask: 0o4000)],
                                  action: .errno(0))
        let rest = FilterRule(number: 72, action: .errno(38))
        let program = SeccompFilter(rules: [nonblock, rest]).instructions()
        #expect(x86(72, [3, 4, 0o4002, 0, 0, 0]).run(program) == FilterAction.errno(0).returnValue)
        #expect(x86(72, [3, 4, 0o2, 0, 0, 0]).run(program) == FilterAction.errno(38).returnValue)
        #expect(x86(72, [3, 3, 0o4000, 0, 0, 0]).run(program) == FilterAction.errno(38).returnValue)
        #expect(x86(0).run(program) == allow)
    }
}
