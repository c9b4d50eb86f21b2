import CCapstone
import SyspectCore

/// Reads one ELF object into an `ObjectSummary`: a linear sweep of every executable section
/// with Capstone finds function starts, call/jump edges, code and GOT references and system call
/// instructions; functions holding a site are disassembled again for the backward data flow.
struct ObjectScanner {
    let elf: ELFFile
    let disassembler: Disassembler

    private enum Event {
        case branch(from: UInt64, to: UInt64, isCall: Bool)
        case reference(from: UInt64, to: UInt64)  // rip-relative memory operand (lea/mov/call/jmp)
        case immediate(from: UInt64, value: UInt64)  // ET_EXEC only: an immediate in code range
        case site(at: UInt64, kind: StaticSiteKind)
    }

    func scan() -> ObjectSummary {
        var warnings: [String] = []
        let exec = elf.executableSections
        func inCode(_ a: UInt64) -> Bool { exec.contains { $0.contains(a) } }
        if exec.isEmpty { warnings.append("no executable sections") }

        // Imports: every relocation against a symbol, deduplicated by (name, version).
        var imports: [SymbolRef] = []
        var importIndex: [SymbolRef: Int] = [:]
        var gotSlots: [UInt64: Int] = [:]
        var rootImports = Set<Int>()
        var codeRoots = Set<UInt64>()
        for r in elf.relocations {
            switch r.type {
            case 8, 37:  // R_X86_64_RELATIVE, R_X86_64_IRELATIVE: a code address stored in data
                let a = UInt64(bitPattern: r.addend)
                if inCode(a) { codeRoots.insert(a) }
            case 1, 6, 7:  // R_X86_64_64, GLOB_DAT, JUMP_SLOT
                guard r.symbol > 0 && r.symbol < elf.dynamicSymbols.count else { continue }
                let sym = elf.dynamicSymbols[r.symbol]
                guard !sym.name.isEmpty else { continue }
                if sym.type != 0 && !sym.isFunction { continue }  // data objects are not code
                let ref = SymbolRef(name: sym.name, version: sym.version)
                let index: Int
                if let i = importIndex[ref] { index = i } else {
                    index = imports.count
                    imports.append(ref)
                    importIndex[ref] = index
                }
                gotSlots[r.offset] = index
                if r.type == 1 { rootImports.insert(index) }
            default: break
            }
        }
        for a in elf.initFunctions where inCode(a) { codeRoots.insert(a) }

        // Function starts from symbols.
        var names: [UInt64: String] = [:]
        var starts = Set<UInt64>()
        for sym in elf.staticSymbols + elf.dynamicSymbols where sym.isDefined && sym.isFunction && sym.value != 0 && inCode(sym.value) {
            starts.insert(sym.value)
            if names[sym.value] == nil || sym.binding == 1 { names[sym.value] = sym.name }
        }
        if elf.entry != 0 && inCode(elf.entry) { starts.insert(elf.entry) }
        starts.formUnion(codeRoots)
        for s in exec { starts.insert(s.address) }

        // Pass 1: linear sweep.
        var events: [Event] = []
        let isExecType = elf.type == 2
        let codeLow = exec.map(\.address).min() ?? 0
        let codeHigh = exec.map { $0.address &+ UInt64($0.size) }.max() ?? 0
        for s in exec {
            let bytes = UnsafeRawBufferPointer(rebasing: elf.file.bytes[s.offset..<(s.offset + s.size)])
            disassembler.sweep(bytes, address: s.address) { i in
                if i.id == 0 { return }
                if i.flags & (flagJump | flagCall) != 0 {
                    if i.opType(0) == opImm {
                        let t = UInt64(bitPattern: i.opImm(0))
                        events.append(.branch(from: i.address, to: t, isCall: i.flags & flagCall != 0))
                        if i.flags & flagCall != 0 && inCode(t) { starts.insert(t) }
                        return
                    }
                }
                switch i.id {
                case insSyscall: events.append(.site(at: i.address, kind: .syscall)); return
                case insSysenter: events.append(.site(at: i.address, kind: .sysenter)); return
                case insInt:
                    if i.opType(0) == opImm && i.opImm(0) == 0x80 { events.append(.site(at: i.address, kind: .int80)) }
                    return
                case insNop: return
                default: break
                }
                for k in 0..<min(Int(i.nops), 3) {
                    if let t = i.ripTarget(k) {
                        events.append(.reference(from: i.address, to: t))
                        if i.id == insLea && inCode(t) { starts.insert(t) }
                    } else if isExecType && i.opType(k) == opImm {
                        let v = UInt64(bitPattern: i.opImm(k))
                        if v >= codeLow && v < codeHigh { events.append(.immediate(from: i.address, value: v)) }
                    }
                }
            }
        }

        // Non-PIE executables store function addresses in data without relocations.
        if isExecType {
            for s in elf.sections where s.isAllocated && !s.isExecutable && s.type == 1 && s.size >= 8 {
                var o = s.offset
                while o + 8 <= s.offset + s.size {
                    let w = elf.u64(o)
                    if w >= codeLow && w < codeHigh && starts.contains(w) { codeRoots.insert(w) }
                    o += 8
                }
            }
        }

        // Functions: each start extends to the next one (or its section's end).
        let sortedStarts = starts.sorted()
        var functions: [FunctionSummary] = []
        functions.reserveCapacity(sortedStarts.count)
        for (n, a) in sortedStarts.enumerated() {
            guard let sec = exec.first(where: { $0.contains(a) }) else { continue }
            let secEnd = sec.address &+ UInt64(sec.size)
            let end = n + 1 < sortedStarts.count ? min(sortedStarts[n + 1], secEnd) : secEnd
            functions.append(FunctionSummary(start: a, end: end, name: names[a], callees: [], imports: [], sites: [], importCalls: []))
        }
        let startsArray = functions.map(\.start)
        func containing(_ a: UInt64) -> Int? {
            var lo = 0, hi = startsArray.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if startsArray[mid] <= a { lo = mid + 1 } else { hi = mid }
            }
            let i = lo - 1
            return i >= 0 && a < functions[i].end ? i : nil
        }
        var startIndex: [UInt64: Int] = [:]
        for (i, f) in functions.enumerated() { startIndex[f.start] = i }

        // Attribute events.
        var callees = [Set<Int>](repeating: [], count: functions.count)
        var importRefs = [Set<Int>](repeating: [], count: functions.count)
        var addressTaken = Set<Int>()
        var siteEvents: [Int: [(UInt64, StaticSiteKind)]] = [:]
        var directCallers: [Int: [(caller: Int, at: UInt64)]] = [:]  // calls/jumps to a function's start
        var gotCalls: [(caller: Int, at: UInt64, importIndex: Int)] = []
        for e in events {
            switch e {
            case .branch(let from, let to, _):
                guard let f = containing(from), let g = containing(to) else { continue }
                if g != f { callees[f].insert(g) }
                if functions[g].start == to && g != f { directCallers[g, default: []].append((f, from)) }
            case .reference(let from, let to):
                guard let f = containing(from) else { continue }
                if let imp = gotSlots[to] {
                    importRefs[f].insert(imp)
                    if wrapperImports.contains(imports[imp].name) { gotCalls.append((f, from, imp)) }
                } else if let g = containing(to) {
                    if g != f { callees[f].insert(g) }
                    addressTaken.insert(g)
                }
            case .immediate(let from, let value):
                guard let f = containing(from), let g = startIndex[value] else { continue }
                if g != f { callees[f].insert(g) }
                addressTaken.insert(g)
            case .site(let at, let kind):
                guard let f = containing(at) else { continue }
                siteEvents[f, default: []].append((at, kind))
            }
        }
        for i in functions.indices {
            functions[i].callees = callees[i].sorted()
            functions[i].imports = importRefs[i].sorted()
        }
        var roots = Set<Int>()
        for a in codeRoots { if let f = containing(a) { roots.insert(f); addressTaken.insert(f) } }
        let entryFunction = elf.entry != 0 ? containing(elf.entry) : nil

        // Exports.
        var exports: [Export] = []
        var exportedNames: [Int: Set<String>] = [:]
        for sym in elf.dynamicSymbols where sym.isDefined && sym.isFunction && sym.binding != 0 {
            guard let f = startIndex[sym.value] else { continue }
            exports.append(Export(name: sym.name, version: sym.version, hidden: sym.hidden, function: f))
            exportedNames[f, default: []].insert(sym.name)
        }

        // Pass 2: data flow for the functions with sites.
        var code: [Int: FunctionCode] = [:]
        func functionCode(_ f: Int) -> FunctionCode {
            if let c = code[f] { return c }
            let fn = functions[f]
            let c: FunctionCode
            if let off = elf.fileOffset(of: fn.start), off + Int(fn.end - fn.start) <= elf.file.size {
                c = FunctionCode(disassembler: disassembler,
                                 bytes: UnsafeRawBufferPointer(rebasing: elf.file.bytes[off..<(off + Int(fn.end - fn.start))]),
                                 address: fn.start)
            } else {
                c = FunctionCode(disassembler: disassembler, bytes: UnsafeRawBufferPointer(start: nil, count: 0), address: fn.start)
            }
            code[f] = c
            return c
        }
        func resolveAt(_ f: Int, _ address: UInt64, register: Int) -> Set<Resolution> {
            let c = functionCode(f)
            guard let pos = c.index[address] else { return [.unresolved("instruction not found when disassembling the function again")] }
            return c.resolve(family: register, before: pos)
        }
        // Wrappers found: (function, register) whose sites take the number from an argument.
        var wrapperQueue: [(Int, Int, Int)] = []  // function, register family, depth
        for (f, list) in siteEvents.sorted(by: { $0.key < $1.key }) {
            for (at, kind) in list {
                for r in resolveAt(f, at, register: 0) {
                    switch r {
                    case .number(let n):
                        functions[f].sites.append(SiteSummary(address: at, kind: kind, number: n, argument: nil, covered: true, note: nil))
                    case .argument(let reg):
                        functions[f].sites.append(SiteSummary(address: at, kind: kind, number: nil, argument: reg, covered: true, note: "number from argument \(registerName(reg))"))
                        if kind == .syscall { wrapperQueue.append((f, reg, 0)) }
                    case .unresolved(let why):
                        functions[f].sites.append(SiteSummary(address: at, kind: kind, number: nil, argument: nil, covered: true, note: why))
                    }
                }
            }
        }
        // Callers of in-object wrappers, up to 4 levels (a wrapper of a wrapper …).
        var doneWrappers = Set<[Int]>()
        var coveredWrapper = [Int: Bool]()
        while let (f, reg, depth) = wrapperQueue.popLast() {
            guard doneWrappers.insert([f, reg]).inserted else { continue }
            // Every caller is seen when no address is taken, it is no root, and it is exported only
            // under a wrapper name (whose callers in other objects are resolved there).
            let exportOK = exportedNames[f].map { $0.isSubset(of: wrapperImports) } ?? true
            var covered = !addressTaken.contains(f) && !roots.contains(f) && exportOK
            for (caller, at) in directCallers[f] ?? [] {
                for r in resolveAt(caller, at, register: reg) {
                    switch r {
                    case .number(let n):
                        functions[caller].sites.append(SiteSummary(address: at, kind: .wrapperCall, number: n, argument: nil, covered: true, note: "call to \(functions[f].name ?? "0x" + String(functions[f].start, radix: 16))"))
                    case .argument(let reg2):
                        functions[caller].sites.append(SiteSummary(address: at, kind: .wrapperCall, number: nil, argument: reg2, covered: true, note: "number from argument \(registerName(reg2))"))
                        if depth + 1 < 4 { wrapperQueue.append((caller, reg2, depth + 1)) } else { covered = false }
                    case .unresolved(let why):
                        functions[caller].sites.append(SiteSummary(address: at, kind: .wrapperCall, number: nil, argument: nil, covered: true, note: why))
                    }
                }
            }
            coveredWrapper[f] = covered && (coveredWrapper[f] ?? true)
        }
        for (f, covered) in coveredWrapper {
            for k in functions[f].sites.indices where functions[f].sites[k].argument != nil {
                functions[f].sites[k].covered = covered
            }
        }
        // Calls to imported wrappers: through a GOT slot directly, or through a PLT stub.
        var stubImport: [Int: Int] = [:]
        for (i, fn) in functions.enumerated() where fn.imports.count == 1 && fn.sites.isEmpty {
            let sec = exec.first { $0.contains(fn.start) }
            if let sec, sec.name.hasPrefix(".plt"), wrapperImports.contains(imports[fn.imports[0]].name) { stubImport[i] = fn.imports[0] }
        }
        var wrapperCalls = gotCalls.filter { stubImport[$0.caller] == nil }  // a stub's callers stand for it
        for (stub, imp) in stubImport {
            for (caller, at) in directCallers[stub] ?? [] { wrapperCalls.append((caller, at, imp)) }
        }
        for (caller, at, imp) in wrapperCalls {
            for r in resolveAt(caller, at, register: 7) {
                switch r {
                case .number(let n): functions[caller].importCalls.append(ImportCall(importIndex: imp, address: at, number: n, note: nil))
                case .argument(let reg): functions[caller].importCalls.append(ImportCall(importIndex: imp, address: at, number: nil, note: "number from argument \(registerName(reg)) (wrapper of a wrapper across objects)"))
                case .unresolved(let why): functions[caller].importCalls.append(ImportCall(importIndex: imp, address: at, number: nil, note: why))
                }
            }
        }
        // Sets of resolutions iterate in a per-process order: sort so summaries are reproducible.
        for i in functions.indices {
            functions[i].sites.sort { ($0.address, $0.number ?? -1, $0.argument ?? -1, $0.note ?? "") < ($1.address, $1.number ?? -1, $1.argument ?? -1, $1.note ?? "") }
            functions[i].importCalls.sort { ($0.address, $0.number ?? -1, $0.note ?? "") < ($1.address, $1.number ?? -1, $1.note ?? "") }
        }

        let stripped = !elf.hasSymtab
        if stripped && !exec.isEmpty {
            warnings.append("stripped (no .symtab): function starts from dynamic symbols, the entry point, call targets and code references")
        }
        return ObjectSummary(
            version: StaticAnalysis.analyserVersion, path: elf.path, soname: elf.soname, buildID: elf.buildID,
            fileSize: elf.file.size, modificationTime: elf.file.mtime, stripped: stripped, needed: elf.needed,
            rpath: elf.rpath, runpath: elf.runpath, interpreter: elf.interpreter, functions: functions,
            imports: imports, exports: exports, roots: roots.sorted(), rootImports: rootImports.sorted(),
            entryFunction: entryFunction, warnings: warnings)
    }
}
