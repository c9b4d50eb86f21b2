import Foundation
import SyspectCore

/// Why a file cannot be analysed; `description` is the one-line message the CLI prints.
public enum StaticAnalysisError: Error, Sendable, Hashable, CustomStringConvertible {
    case cannotRead(path: String, reason: String)
    case notELF(path: String)
    case notELF64(path: String)
    case notX86_64(path: String, machine: Int)
    case notLittleEndian(path: String)
    case malformed(path: String, reason: String)
    case disassembler(String)

    public var description: String {
        switch self {
        case .cannotRead(let path, let reason):
            return "cannot read \(shown(path)): \(reason); check the path and its permissions"
        case .notELF(let path):
            return "\(shown(path)) is not an ELF file (no \\x7fELF magic); give an executable or shared library"
        case .notELF64(let path):
            return "\(shown(path)) is a 32-bit ELF (ELFCLASS32); syspect static reads only 64-bit x86-64 ELF files"
        case .notX86_64(let path, let machine):
            return "\(shown(path)) is an ELF for \(Self.machineName(machine)) (e_machine \(machine)), not x86-64; syspect static reads only x86-64 code"
        case .notLittleEndian(let path):
            return "\(shown(path)) is a big-endian ELF; syspect static reads only little-endian x86-64 ELF files"
        case .malformed(let path, let reason):
            return "\(shown(path)) is a malformed ELF file (\(reason)); check that the file is complete"
        case .disassembler(let reason):
            return "the Capstone disassembler failed: \(reason); reinstall libcapstone4"
        }
    }

    /// A path as printed in one-line messages: control characters escaped, at most 200 characters.
    func shown(_ path: String) -> String {
        var out = ""
        for scalar in path.unicodeScalars.prefix(200) {
            out += scalar.value < 0x20 || scalar.value == 0x7f ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }
        return path.unicodeScalars.count > 200 ? out + "…" : out
    }

    static func machineName(_ m: Int) -> String {
        switch m {
        case 3: return "i386"
        case 8: return "MIPS"
        case 20: return "PowerPC"
        case 21: return "PowerPC64"
        case 22: return "S/390"
        case 40: return "ARM"
        case 50: return "IA-64"
        case 183: return "AArch64"
        case 243: return "RISC-V"
        case 258: return "LoongArch"
        default: return "another machine"
        }
    }
}

/// A read-only memory map of a whole file.
final class MappedFile: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    let size: Int
    let mtime: Int

    init(path: String) throws(StaticAnalysisError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotRead(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotRead(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .cannotRead(path: path, reason: "not a regular file") }
        size = Int(st.st_size)
        mtime = Int(st.st_mtim.tv_sec)
        if size == 0 { bytes = UnsafeRawBufferPointer(start: nil, count: 0); return }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw .cannotRead(path: path, reason: String(cString: strerror(errno))) }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }
}

/// One section header.
struct ELFSection: Sendable {
    var name: String
    var type: UInt32
    var flags: UInt64
    var address: UInt64
    var offset: Int
    var size: Int
    var link: Int
    var entrySize: Int
    var isExecutable: Bool { flags & 0x4 != 0 }  // SHF_EXECINSTR
    var isAllocated: Bool { flags & 0x2 != 0 }
    func contains(_ a: UInt64) -> Bool { a >= address && a < address &+ UInt64(size) }
}

/// One symbol of .dynsym or .symtab, with its version when the object has version sections.
struct ELFSymbol: Sendable {
    var name: String
    var value: UInt64
    var size: UInt64
    var type: UInt8      // STT_*
    var binding: UInt8   // STB_*
    var section: UInt16  // st_shndx (0 = undefined)
    var version: String?
    /// A non-default (`name@VERSION`, not `@@`) definition: only versioned references bind to it.
    var hidden: Bool
    var isDefined: Bool { section != 0 }
    var isFunction: Bool { type == 2 || type == 10 }  // STT_FUNC, STT_GNU_IFUNC
}

/// One relocation (.rela.*): offset, type, symbol index in .dynsym, addend.
struct ELFRelocation: Sendable {
    var offset: UInt64
    var type: UInt32
    var symbol: Int
    var addend: Int64
}

/// A little-endian x86-64 ELF64 file: headers, sections, dynamic symbols, relocations, dynamic
/// tags, build-id. Reads the mapped bytes directly; every offset is bounds-checked.
struct ELFFile: @unchecked Sendable {
    let path: String
    let file: MappedFile
    var type: UInt16 = 0          // ET_EXEC 2, ET_DYN 3
    var entry: UInt64 = 0
    var sections: [ELFSection] = []
    var dynamicSymbols: [ELFSymbol] = []
    var staticSymbols: [ELFSymbol] = []
    var relocations: [ELFRelocation] = []
    var needed: [String] = []
    var soname: String?
    var rpath: [String] = []
    var runpath: [String] = []
    var interpreter: String?
    var buildID = ""
    var initFunctions: [UInt64] = []
    /// (virtual address, file offset, file size) of each PT_LOAD segment.
    var segments: [(address: UInt64, offset: Int, size: Int)] = []

    var hasSymtab: Bool { sections.contains { $0.type == 2 } }
    var executableSections: [ELFSection] { sections.filter { $0.isExecutable && $0.type == 1 && $0.size > 0 } }

    /// `headersOnly`: only the headers, sections and build-id (enough for the cache key);
    /// no symbols, relocations or dynamic tags.
    init(path: String, headersOnly: Bool = false) throws(StaticAnalysisError) {
        self.path = path
        file = try MappedFile(path: path)
        try parse(headersOnly: headersOnly)
    }

    // MARK: raw reads

    func u8(_ o: Int) -> UInt8 { o >= 0 && o < file.size ? file.bytes[o] : 0 }
    func u16(_ o: Int) -> UInt16 {
        guard o >= 0, o + 2 <= file.size else { return 0 }
        return file.bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self)
    }
    func u32(_ o: Int) -> UInt32 {
        guard o >= 0, o + 4 <= file.size else { return 0 }
        return file.bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)
    }
    func u64(_ o: Int) -> UInt64 {
        guard o >= 0, o + 8 <= file.size else { return 0 }
        return file.bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)
    }
    func cString(_ o: Int, limit: Int) -> String {
        guard o >= 0, o < file.size else { return "" }
        var end = o
        let stop = min(file.size, limit)
        while end < stop && file.bytes[end] != 0 { end += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: file.bytes[o..<end]), as: UTF8.self)
    }

    /// File offset of virtual address `a`, or nil when no PT_LOAD maps it from the file.
    func fileOffset(of a: UInt64) -> Int? {
        for s in segments where a >= s.address && a < s.address &+ UInt64(s.size) {
            return s.offset + Int(a - s.address)
        }
        return nil
    }

    /// The 8-byte word at virtual address `a` as stored in the file.
    func word(at a: UInt64) -> UInt64? { fileOffset(of: a).map { u64($0) } }

    // MARK: parsing

    private mutating func parse(headersOnly: Bool) throws(StaticAnalysisError) {
        guard file.size >= 16, u32(0) == 0x464C_457F else { throw .notELF(path: path) }
        guard u8(4) == 2 else {
            if u8(4) == 1 { throw .notELF64(path: path) }
            throw .malformed(path: path, reason: "unknown ELF class \(u8(4))")
        }
        guard u8(5) == 1 else { throw .notLittleEndian(path: path) }
        guard file.size >= 64 else { throw .malformed(path: path, reason: "truncated ELF header") }
        let machine = Int(u16(18))
        guard machine == 62 else { throw .notX86_64(path: path, machine: machine) }
        type = u16(16)
        entry = u64(24)
        let phoff = Int(truncatingIfNeeded: u64(32)), shoff = Int(truncatingIfNeeded: u64(40))
        let phentsize = Int(u16(54)), phnum = Int(u16(56))
        let shentsize = Int(u16(58)), shnum = Int(u16(60)), shstrndx = Int(u16(62))

        // Program headers: PT_LOAD segments, PT_INTERP, PT_DYNAMIC, PT_NOTE.
        var dynamicOffset: Int?, dynamicSize = 0
        var notes: [(Int, Int)] = []
        if phnum > 0 {
            guard phentsize >= 56, phoff > 0, phoff + phnum * phentsize <= file.size else {
                throw .malformed(path: path, reason: "program headers outside the file")
            }
            for i in 0..<phnum {
                let o = phoff + i * phentsize
                let ptype = u32(o)
                let off = Int(truncatingIfNeeded: u64(o + 8)), vaddr = u64(o + 16)
                let filesz = Int(truncatingIfNeeded: u64(o + 32))
                switch ptype {
                case 1: segments.append((vaddr, off, filesz))
                case 2: dynamicOffset = off; dynamicSize = filesz
                case 3: interpreter = cString(off, limit: off + filesz)
                case 4: notes.append((off, filesz))
                default: break
                }
            }
        }

        // Section headers.
        if shnum > 0 && shoff > 0 {
            guard shentsize >= 64, shoff + shnum * shentsize <= file.size else {
                throw .malformed(path: path, reason: "section headers outside the file")
            }
            var raw: [(UInt32, ELFSection)] = []
            for i in 0..<shnum {
                let o = shoff + i * shentsize
                raw.append((u32(o), ELFSection(
                    name: "", type: u32(o + 4), flags: u64(o + 8), address: u64(o + 16),
                    offset: Int(truncatingIfNeeded: u64(o + 24)), size: Int(truncatingIfNeeded: u64(o + 32)),
                    link: Int(u32(o + 40)), entrySize: Int(truncatingIfNeeded: u64(o + 56)))))
            }
            let strtab = shstrndx < raw.count ? raw[shstrndx].1 : nil
            for (nameOffset, var s) in raw {
                if let strtab { s.name = cString(strtab.offset + Int(nameOffset), limit: strtab.offset + strtab.size) }
                if s.type != 8 /* NOBITS */ && (s.offset < 0 || s.size < 0 || s.offset + s.size > file.size) {
                    throw .malformed(path: path, reason: "section \(s.name) outside the file")
                }
                sections.append(s)
            }
        }

        for s in sections where s.type == 7 { notes.append((s.offset, s.size)) }  // SHT_NOTE
        buildID = readBuildID(notes: notes)
        if headersOnly { return }

        // Symbols with versions.
        let versions = readVersions()
        for s in sections where s.type == 11 || s.type == 2 {  // DYNSYM, SYMTAB
            let syms = readSymbols(s, versions: s.type == 11 ? versions : nil)
            if s.type == 11 { dynamicSymbols = syms } else { staticSymbols = syms }
        }

        // Relocations (SHT_RELA) against .dynsym or none.
        for s in sections where s.type == 4 && s.entrySize == 24 {
            let n = s.size / 24
            relocations.reserveCapacity(relocations.count + n)
            for i in 0..<n {
                let o = s.offset + i * 24
                let info = u64(o + 8)
                relocations.append(ELFRelocation(offset: u64(o), type: UInt32(info & 0xffff_ffff),
                                                 symbol: Int(info >> 32), addend: Int64(bitPattern: u64(o + 16))))
            }
        }

        if let dynamicOffset { readDynamic(offset: dynamicOffset, size: dynamicSize) }
    }

    private func readBuildID(notes: [(Int, Int)]) -> String {
        for (off, size) in notes {
            var o = off
            while o + 12 <= off + size {
                let namesz = Int(u32(o)), descsz = Int(u32(o + 4)), ntype = u32(o + 8)
                let name = o + 12, desc = name + ((namesz + 3) & ~3)
                if ntype == 3 && namesz == 4 && u32(name) == 0x0055_4E47 && desc + descsz <= file.size {  // "GNU\0"
                    return (0..<descsz).map { String(format: "%02x", u8(desc + $0)) }.joined()
                }
                o = desc + ((descsz + 3) & ~3)
            }
        }
        return ""
    }

    /// Version index → (name), from .gnu.version_d and .gnu.version_r.
    private func readVersions() -> (versym: ELFSection?, names: [Int: String]) {
        var names: [Int: String] = [:]
        var versym: ELFSection?
        for s in sections {
            switch s.type {
            case 0x6fff_ffff: versym = s  // SHT_GNU_versym
            case 0x6fff_fffd:  // SHT_GNU_verdef
                let str = sections.indices.contains(s.link) ? sections[s.link] : nil
                var o = s.offset
                for _ in 0..<1000 {
                    let ndx = Int(u16(o + 4)), cnt = Int(u16(o + 6))
                    let aux = Int(u32(o + 12)), next = Int(u32(o + 16))
                    if cnt > 0, let str { names[ndx] = cString(str.offset + Int(u32(o + aux)), limit: str.offset + str.size) }
                    if next == 0 { break }
                    o += next
                }
            case 0x6fff_fffe:  // SHT_GNU_verneed
                let str = sections.indices.contains(s.link) ? sections[s.link] : nil
                var o = s.offset
                for _ in 0..<1000 {
                    let cnt = Int(u16(o + 2)), aux = Int(u32(o + 8)), next = Int(u32(o + 12))
                    var a = o + aux
                    for _ in 0..<cnt {
                        let other = Int(u16(a + 6)), name = Int(u32(a + 8)), anext = Int(u32(a + 12))
                        if let str { names[other] = cString(str.offset + name, limit: str.offset + str.size) }
                        if anext == 0 { break }
                        a += anext
                    }
                    if next == 0 { break }
                    o += next
                }
            default: break
            }
        }
        return (versym, names)
    }

    private func readSymbols(_ s: ELFSection, versions: (versym: ELFSection?, names: [Int: String])?) -> [ELFSymbol] {
        guard s.entrySize == 24, sections.indices.contains(s.link) else { return [] }
        let str = sections[s.link]
        let n = s.size / 24
        var result: [ELFSymbol] = []
        result.reserveCapacity(n)
        for i in 0..<n {
            let o = s.offset + i * 24
            let info = u8(o + 4)
            var sym = ELFSymbol(name: cString(str.offset + Int(u32(o)), limit: str.offset + str.size),
                                value: u64(o + 8), size: u64(o + 16), type: info & 0xf, binding: info >> 4,
                                section: u16(o + 6), version: nil, hidden: false)
            if let versions, let vs = versions.versym, i * 2 + 2 <= vs.size {
                let v = u16(vs.offset + i * 2)
                let index = Int(v & 0x7fff)
                if index >= 2 { sym.version = versions.names[index] }
                sym.hidden = v & 0x8000 != 0
            }
            result.append(sym)
        }
        return result
    }

    private mutating func readDynamic(offset: Int, size: Int) {
        var strOffset: Int?
        var entries: [(Int64, UInt64)] = []
        var o = offset
        while o + 16 <= offset + size {
            let tag = Int64(bitPattern: u64(o)), val = u64(o + 8)
            if tag == 0 { break }
            entries.append((tag, val))
            if tag == 5 { strOffset = fileOffset(of: val) }  // DT_STRTAB
            o += 16
        }
        func str(_ v: UInt64) -> String {
            guard let strOffset else { return "" }
            return cString(strOffset + Int(truncatingIfNeeded: v), limit: file.size)
        }
        var initArray: (UInt64, Int)?, finiArray: (UInt64, Int)?, preinit: (UInt64, Int)?
        var initArraySize = 0, finiArraySize = 0, preinitSize = 0
        for (tag, val) in entries {
            switch tag {
            case 1: needed.append(str(val))
            case 14: soname = str(val)
            case 15: rpath = str(val).split(separator: ":").map(String.init)
            case 29: runpath = str(val).split(separator: ":").map(String.init)
            case 12, 13: initFunctions.append(val)  // DT_INIT, DT_FINI
            case 25: initArray = (val, 0)
            case 27: initArraySize = Int(val)
            case 26: finiArray = (val, 0)
            case 28: finiArraySize = Int(val)
            case 32: preinit = (val, 0)
            case 33: preinitSize = Int(val)
            default: break
            }
        }
        for (array, size) in [(initArray, initArraySize), (finiArray, finiArraySize), (preinit, preinitSize)] {
            guard let (a, _) = array else { continue }
            for i in 0..<(size / 8) {
                if let w = word(at: a + UInt64(i * 8)), w != 0, w != ~0 { initFunctions.append(w) }
            }
        }
    }
}
