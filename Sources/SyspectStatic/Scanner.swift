import CCapstone
import SyspectCore

/// Imported functions whose first argument (rdi) is a system call number: calls to them are
/// resolved at the call site (glibc's `syscall(long number, ...)`).
public let wrapperImports: Set<String> = ["syscall"]

let insSyscall = UInt32(X86_INS_SYSCALL.rawValue)
let insSysenter = UInt32(X86_INS_SYSENTER.rawValue)
let insInt = UInt32(X86_INS_INT.rawValue)
let insCall = UInt32(X86_INS_CALL.rawValue)
let insJmp = UInt32(X86_INS_JMP.rawValue)
let insMov = UInt32(X86_INS_MOV.rawValue)
let insMovabs = UInt32(X86_INS_MOVABS.rawValue)
let insMovzx = UInt32(X86_INS_MOVZX.rawValue)
let insMovsx = UInt32(X86_INS_MOVSX.rawValue)
let insMovsxd = UInt32(X86_INS_MOVSXD.rawValue)
let insXor = UInt32(X86_INS_XOR.rawValue)
let insSub = UInt32(X86_INS_SUB.rawValue)
let insAdd = UInt32(X86_INS_ADD.rawValue)
let insLea = UInt32(X86_INS_LEA.rawValue)
let insPush = UInt32(X86_INS_PUSH.rawValue)
let insPop = UInt32(X86_INS_POP.rawValue)
let insNop = UInt32(X86_INS_NOP.rawValue)
let insInt3 = UInt32(X86_INS_INT3.rawValue)
let cmovs: Set<UInt32> = Set([X86_INS_CMOVA, X86_INS_CMOVAE, X86_INS_CMOVB, X86_INS_CMOVBE, X86_INS_CMOVE,
                                      X86_INS_CMOVG, X86_INS_CMOVGE, X86_INS_CMOVL, X86_INS_CMOVLE, X86_INS_CMOVNE,
                                      X86_INS_CMOVNO, X86_INS_CMOVNP, X86_INS_CMOVNS, X86_INS_CMOVO, X86_INS_CMOVP,
                                      X86_INS_CMOVS].map { UInt32($0.rawValue) })
let opReg = UInt8(SYSPECT_OP_REG), opImm = UInt8(SYSPECT_OP_IMM), opMem = UInt8(SYSPECT_OP_MEM)
let flagJump = UInt8(SYSPECT_F_JUMP), flagCall = UInt8(SYSPECT_F_CALL), flagEnd = UInt8(SYSPECT_F_END)

/// Register family of a Capstone register id (0 rax … 15 r15, 16 rip, -1 other) and its width.
@inline(__always) func family(_ reg: UInt16) -> (Int, Int) {
    var w: Int32 = 0
    let f = syspect_reg_family(UInt32(reg), &w)
    return (Int(f), Int(w))
}

private let registerNames = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                             "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"]
func registerName(_ f: Int) -> String { f >= 0 && f < registerNames.count ? registerNames[f] : "reg\(f)" }
/// System V argument registers, in order: rdi, rsi, rdx, rcx, r8, r9.
private let argumentFamilies: Set<Int> = [7, 6, 2, 1, 8, 9]
/// Registers a call may change (caller-saved).
private let callerSaved: Set<Int> = [0, 1, 2, 6, 7, 8, 9, 10, 11]

/// A Capstone handle with a reusable instruction buffer (one per thread of analysis).
final class Disassembler {
    private var handle: csh = 0
    let insn: UnsafeMutablePointer<cs_insn>

    init() throws(StaticAnalysisError) {
        guard syspect_open(&handle) == 0 else { throw .disassembler("cs_open(x86, 64-bit) failed") }
        guard let p = cs_malloc(handle) else { throw .disassembler("cs_malloc failed") }
        insn = p
    }

    deinit {
        cs_free(insn, 1)
        cs_close(&handle)
    }

    /// Calls `body` with every instruction of `bytes` (at virtual address `address`), linear sweep.
    func sweep(_ bytes: UnsafeRawBufferPointer, address: UInt64, _ body: (inout syspect_insn) -> Void) {
        guard var code = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var size = bytes.count
        var addr = address
        var out = syspect_insn()
        withUnsafeMutablePointer(to: &code) { codePtr in
            let cp = UnsafeMutableRawPointer(codePtr).assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
            while syspect_next(handle, cp, &size, &addr, insn, &out) != 0 {
                body(&out)
            }
        }
    }

    /// Like `sweep`, also giving the register families each instruction writes: bit f of `full`
    /// for 32/64-bit writes, of `partial` for 8/16-bit ones.
    func sweepWithWrites(_ bytes: UnsafeRawBufferPointer, address: UInt64,
                         _ body: (inout syspect_insn, _ full: UInt32, _ partial: UInt32) -> Void) {
        guard var code = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var size = bytes.count
        var addr = address
        var out = syspect_insn()
        var regs = [UInt16](repeating: 0, count: 64)
        withUnsafeMutablePointer(to: &code) { codePtr in
            let cp = UnsafeMutableRawPointer(codePtr).assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
            while syspect_next(handle, cp, &size, &addr, insn, &out) != 0 {
                var full: UInt32 = 0, partial: UInt32 = 0
                if out.id != 0 {
                    let n = regs.withUnsafeMutableBufferPointer { syspect_regs_written(handle, insn, $0.baseAddress, 64) }
                    if n < 0 { full = ~0 }  // unknown: treat as writing everything
                    for i in 0..<max(0, Int(n)) {
                        let (f, w) = family(regs[i])
                        guard f >= 0 && f < 32 else { continue }
                        if w >= 4 { full |= 1 << UInt32(f) } else { partial |= 1 << UInt32(f) }
                    }
                }
                body(&out, full, partial)
            }
        }
    }
}

/// Operand accessors on the flat instruction record.
extension syspect_insn {
    @inline(__always) func opType(_ i: Int) -> UInt8 {
        switch i { case 0: return op_type.0; case 1: return op_type.1; default: return op_type.2 }
    }
    @inline(__always) func opReg(_ i: Int) -> UInt16 {
        switch i { case 0: return op_reg.0; case 1: return op_reg.1; default: return op_reg.2 }
    }
    @inline(__always) func opIndex(_ i: Int) -> UInt16 {
        switch i { case 0: return op_index.0; case 1: return op_index.1; default: return op_index.2 }
    }
    @inline(__always) func opImm(_ i: Int) -> Int64 {
        switch i { case 0: return op_imm.0; case 1: return op_imm.1; default: return op_imm.2 }
    }
    @inline(__always) func opSize(_ i: Int) -> UInt8 {
        switch i { case 0: return op_size.0; case 1: return op_size.1; default: return op_size.2 }
    }
    var next: UInt64 { address &+ UInt64(size) }
    /// The target of a rip-relative memory operand i (no index register), or nil.
    func ripTarget(_ i: Int) -> UInt64? {
        guard opType(i) == opMem, family(opReg(i)).0 == 16, opIndex(i) == 0 else { return nil }
        return next &+ UInt64(bitPattern: opImm(i))
    }
}

/// What one backward search found for one path.
enum Resolution: Hashable {
    case number(Int)
    case argument(Int)
    case unresolved(String)
}

/// One function's instructions with predecessors, for the backward data flow.
struct FunctionCode {
    var insns: [syspect_insn] = []
    var full: [UInt32] = []
    var partial: [UInt32] = []
    var preds: [[Int]] = []
    var index: [UInt64: Int] = [:]

    init(disassembler: Disassembler, bytes: UnsafeRawBufferPointer, address: UInt64) {
        disassembler.sweepWithWrites(bytes, address: address) { insn, f, p in
            index[insn.address] = insns.count
            insns.append(insn)
            // Capstone lists no written registers for `syscall`: the kernel returns in rax and
            // the instruction itself overwrites rcx and r11.
            full.append(insn.id == insSyscall ? f | 1 | 1 << 1 | 1 << 11 : f)
            partial.append(p)
        }
        preds = Array(repeating: [], count: insns.count)
        for (i, insn) in insns.enumerated() {
            if i + 1 < insns.count && insn.flags & flagEnd == 0 { preds[i + 1].append(i) }
            if insn.flags & flagJump != 0, insn.opType(0) == opImm,
               let t = index[UInt64(bitPattern: insn.opImm(0))] {
                preds[t].append(i)
            }
        }
    }

    /// Where a value tracked backwards lives.
    enum Location: Hashable {
        case register(Int)
        /// [base + displacement], base a register family (rsp or rbp).
        case stack(Int, Int64)
    }

    struct State: Hashable {
        var location: Location
        var addend: Int64
    }

    /// The values register `family` can hold just before instruction `position`, one per path
    /// (bounded search; loops and too-long searches give `.unresolved`).
    func resolve(family target: Int, before position: Int, budget: Int = 3000) -> Set<Resolution> {
        var results = Set<Resolution>()
        var seen = Set<[Int]>()
        var work: [(Int, State)] = [(position, State(location: .register(target), addend: 0))]
        var steps = 0
        func value(_ v: Int64, _ s: State) -> Resolution {
            let n = v &+ s.addend
            if n >= 0 && n < 1024 { return .number(Int(n)) }
            // x32 numbers carry bit 30 (kept in the number; the analyser files them apart).
            if n & 0x4000_0000 != 0 && (n & ~0x4000_0000) >= 0 && (n & ~0x4000_0000) < 1024 { return .number(Int(n)) }
            return .unresolved("value \(n) is not a system call number")
        }
        while let (pos, state) = work.popLast() {
            steps += 1
            if steps > budget { results.insert(.unresolved("search limit")); break }
            let key: [Int]
            switch state.location {
            case .register(let f): key = [pos, 0, f, Int(state.addend)]
            case .stack(let b, let d): key = [pos, 1, b, Int(d), Int(state.addend)]
            }
            guard seen.insert(key).inserted else { continue }
            let ps = pos < preds.count ? preds[pos] : []
            if ps.isEmpty || pos == 0 {
                if pos == 0, case .register(let f) = state.location, argumentFamilies.contains(f), state.addend == 0 {
                    results.insert(.argument(f))
                } else if pos == 0, case .register(let f) = state.location, argumentFamilies.contains(f) {
                    results.insert(.unresolved("argument \(registerName(f)) plus \(state.addend)"))
                } else if pos == 0 {
                    results.insert(.unresolved("value from the caller"))
                } else if insns[pos].id != insNop && insns[pos].id != insInt3 {
                    // Padding after a ret or jmp is no path; code reached only by an indirect
                    // jump (a jump table) is one we cannot follow.
                    results.insert(.unresolved("no path to the function start (reached by an indirect jump?)"))
                }
                if ps.isEmpty { continue }
            }
            for q in ps {
                switch step(q, state) {
                case .pass: work.append((q, state))
                case .states(let next): for n in next { work.append((q, n)) }
                case .done(let r): results.insert(r)
                case .value(let v, let s): results.insert(value(v, s))
                }
            }
        }
        return results
    }

    enum Step {
        case pass
        case states([State])
        case value(Int64, State)
        case done(Resolution)
    }

    /// What instruction `q` does to the tracked `state` (going backwards over it).
    func step(_ q: Int, _ state: State) -> Step {
        let i = insns[q]
        switch state.location {
        case .register(let f):
            let bit: UInt32 = 1 << UInt32(f)
            if i.flags & flagCall != 0 {
                return callerSaved.contains(f) ? .done(.unresolved(f == 0 ? "return value of a call" : "\(registerName(f)) after a call")) : .pass
            }
            if full[q] & bit == 0 && partial[q] & bit == 0 { return .pass }
            if partial[q] & bit != 0 && full[q] & bit == 0 {
                return .done(.unresolved("partial write to \(registerName(f)) (\(i.id))"))
            }
            // Forms the search understands; the destination is operand 0.
            let destIsF = i.opType(0) == opReg && family(i.opReg(0)).0 == f
            guard destIsF else { return .done(.unresolved("\(registerName(f)) set by instruction \(i.id) at 0x\(String(i.address, radix: 16))")) }
            let destWidth = family(i.opReg(0)).1
            switch i.id {
            case insMov, insMovabs, insMovzx, insMovsx, insMovsxd:
                switch i.opType(1) {
                case opImm:
                    var v = i.opImm(1)
                    if destWidth == 4 { v = Int64(UInt32(truncatingIfNeeded: v)) }
                    return .value(v, state)
                case opReg:
                    let (g, _) = family(i.opReg(1))
                    guard g >= 0 && g < 16 else { return .done(.unresolved("moved from a special register")) }
                    return .states([State(location: .register(g), addend: state.addend)])
                case opMem:
                    let (b, _) = family(i.opReg(1))
                    if (b == 4 || b == 5) && i.opIndex(1) == 0 {
                        return .states([State(location: .stack(b, i.opImm(1)), addend: state.addend)])
                    }
                    return .done(.unresolved("loaded from memory"))
                default: return .done(.unresolved("unknown operand"))
                }
            case insXor, insSub:
                if i.opType(1) == opReg && family(i.opReg(1)).0 == f { return .value(0, State(location: state.location, addend: state.addend)) }
                if i.id == insSub && i.opType(1) == opImm {
                    return .states([State(location: state.location, addend: state.addend &- i.opImm(1))])
                }
                return .done(.unresolved("computed (xor/sub)"))
            case insAdd:
                if i.opType(1) == opImm { return .states([State(location: state.location, addend: state.addend &+ i.opImm(1))]) }
                return .done(.unresolved("computed (add)"))
            case insLea:
                let (b, _) = family(i.opReg(1))
                if i.opType(1) == opMem && i.opIndex(1) == 0 && b >= 0 && b < 16 {
                    return .states([State(location: .register(b), addend: state.addend &+ i.opImm(1))])
                }
                if i.opType(1) == opMem && i.opReg(1) == 0 && i.opIndex(1) == 0 { return .value(i.opImm(1), state) }
                return .done(.unresolved("computed (lea)"))
            case insPop:
                return .states([State(location: .stack(4, 0), addend: state.addend)])
            default:
                if cmovs.contains(i.id) {
                    var next = [state]
                    switch i.opType(1) {
                    case opReg:
                        let (g, _) = family(i.opReg(1))
                        if g >= 0 && g < 16 { next.append(State(location: .register(g), addend: state.addend)) } else { return .done(.unresolved("cmov")) }
                    case opMem:
                        let (b, _) = family(i.opReg(1))
                        if (b == 4 || b == 5) && i.opIndex(1) == 0 {
                            next.append(State(location: .stack(b, i.opImm(1)), addend: state.addend))
                        } else { return .done(.unresolved("cmov from memory")) }
                    default: return .done(.unresolved("cmov"))
                    }
                    return .states(next)
                }
                return .done(.unresolved("computed (instruction \(i.id))"))
            }
        case .stack(let base, let disp):
            let bit: UInt32 = 1 << UInt32(base)
            // Writes to the slot itself.
            if i.id == insPush && base == 4 {
                if disp == 0 {
                    switch i.opType(0) {
                    case opImm: return .value(i.opImm(0), state)
                    case opReg:
                        let (g, _) = family(i.opReg(0))
                        return g >= 0 && g < 16 ? .states([State(location: .register(g), addend: state.addend)]) : .done(.unresolved("pushed special register"))
                    default: return .done(.unresolved("pushed from memory"))
                    }
                }
                return .states([State(location: .stack(4, disp - 8), addend: state.addend)])
            }
            if i.opType(0) == opMem && family(i.opReg(0)).0 == base && i.opIndex(0) == 0 && i.opImm(0) == disp {
                if i.id == insMov {
                    switch i.opType(1) {
                    case opImm: return .value(i.opImm(1), state)
                    case opReg:
                        let (g, _) = family(i.opReg(1))
                        return g >= 0 && g < 16 ? .states([State(location: .register(g), addend: state.addend)]) : .done(.unresolved("stored special register"))
                    default: return .done(.unresolved("stack slot"))
                    }
                }
                if i.flags & (flagJump | flagCall) == 0 && i.nops >= 2 { return .done(.unresolved("stack slot changed in place")) }
            }
            if full[q] & bit == 0 && partial[q] & bit == 0 { return .pass }
            if i.flags & flagCall != 0 { return .pass }  // a call returns with the same rsp
            if base == 4 {
                if i.id == insPop { return .states([State(location: .stack(4, disp + 8), addend: state.addend)]) }
                if i.id == insSub && i.opType(0) == opReg && i.opType(1) == opImm && family(i.opReg(0)).0 == 4 {
                    return .states([State(location: .stack(4, disp - i.opImm(1)), addend: state.addend)])
                }
                if i.id == insAdd && i.opType(0) == opReg && i.opType(1) == opImm && family(i.opReg(0)).0 == 4 {
                    return .states([State(location: .stack(4, disp + i.opImm(1)), addend: state.addend)])
                }
            }
            return .done(.unresolved("stack pointer changed"))
        }
    }
}
