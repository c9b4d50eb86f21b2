/// Which sub-features (paper section 5.4) an x86-64 system call uses, from its number and
/// arguments. Pure: no kernel, no tracee. See docs/features.md.
///
/// Every `SubFeature.match` the decoder returns is exactly the condition that selects the calls
/// using it: `decode(n, args)` contains a feature `f` iff `f.match` holds on `args` (and, for
/// clone3/openat2, the word read from memory). The explore half stubs it with that condition in a
/// seccomp filter (`.arguments`) or through the tracer (`.memory`).
public enum FeatureDecoder {
    /// The x86-64 numbers of the system calls with sub-features.
    public static var syscalls: [Int] { specs.keys.sorted() }

    /// Whether `syscall` has sub-features.
    public static func decodes(_ syscall: Int) -> Bool { specs[syscall] != nil }

    /// Where the value of a `.memory` sub-feature lives: the 64-bit word at
    /// `arguments[pointer] + offset` (clone3: `clone_args.flags`, openat2: `open_how.flags`).
    public static func memoryOperand(of syscall: Int) -> (pointer: Int, offset: Int)? {
        specs[syscall]?.fields.lazy.compactMap(\.memory).first
    }

    /// The sub-features the call uses. `memory` is the word at `memoryOperand(of:)` (nil: not
    /// read, memory sub-features are left out). Value fields give one feature, flag fields one
    /// per set bit; values and bits no table names are named in hex ("0x80045430").
    public static func decode(syscall: Int, arguments: [UInt64], memory: UInt64? = nil) -> [SubFeature] {
        guard let spec = specs[syscall] else { return [] }
        return spec.fields.flatMap { field -> [SubFeature] in
            let word: UInt64?
            if field.memory != nil {
                word = memory
            } else {
                word = field.index < arguments.count ? arguments[field.index] : nil
            }
            guard let word else { return [] }
            let pairWord: UInt64? = field.pairIndex.flatMap { $0 < arguments.count ? arguments[$0] : nil }
            return field.features(syscall, word: word, pairWord: pairWord)
        }
    }

    /// Every sub-feature of `syscall` the tables name (values and bits in hex are not listed).
    public static func all(for syscall: Int) -> [SubFeature] {
        guard let spec = specs[syscall] else { return [] }
        return spec.fields.flatMap { $0.allNamed(syscall) }
    }

    /// The sub-feature with this key ("fcntl:cmd=F_SETFL", "ioctl:request=0x1234"), or nil.
    public static func feature(key: String) -> SubFeature? {
        guard let colon = key.firstIndex(of: ":"), let equals = key[colon...].firstIndex(of: "="),
              let syscall = SyscallTable.number(named: String(key[..<colon])), let spec = specs[syscall]
        else { return nil }
        let argument = String(key[key.index(after: colon)..<equals])
        let name = String(key[key.index(after: equals)...])
        for field in spec.fields where field.argument == argument {
            if let feature = field.feature(syscall, named: name) { return feature }
        }
        return nil
    }
}

extension SubFeature {
    /// Every named sub-feature of `syscall` (`FeatureDecoder.all(for:)`).
    public static func all(for syscall: Int) -> [SubFeature] { FeatureDecoder.all(for: syscall) }

    /// The sub-feature with this key ("fcntl:cmd=F_SETFL"), or nil.
    public init?(key: String) {
        guard let feature = FeatureDecoder.feature(key: key) else { return nil }
        self = feature
    }
}

extension FeatureMatch {
    /// Whether a call with these arguments (and this word at the memory operand, for `.memory`)
    /// is selected.
    public func holds(_ arguments: [UInt64], memory: UInt64?) -> Bool {
        switch self {
        case .arguments(let conditions):
            return conditions.allSatisfy { $0.holds(arguments) }
        case .memory(_, _, let mask, let value):
            guard let memory else { return false }
            return memory & mask == value
        }
    }
}

// MARK: the decoding rules

/// 32-bit arguments (`int`, `unsigned int` in the kernel): the upper half of the register is
/// ignored by the kernel, so it is ignored here (a sign-extended 0xffffffff80045430 is TIOCGPTN).
private let low32: UInt64 = 0xffff_ffff

/// How one argument (or memory word) of a system call splits into sub-features.
struct FeatureField: Sendable {
    enum Kind: Sendable {
        /// `word & mask` is one value of the table (a command, request, resource); `skipZero`: the
        /// value 0 selects nothing (no exit signal, no huge page size).
        case value(ConstantTable, mask: UInt64, skipZero: Bool)
        /// Each set bit of `word & mask` is a sub-feature of its own; `zeroName`: the name of
        /// `word & mask == 0` (PROT_NONE), nil when that selects nothing.
        case bits(ConstantTable, mask: UInt64, zeroName: String?)
        /// setsockopt/getsockopt: (level, optname), the option table chosen by the level.
        case levelOption
    }

    var argument: String
    var index: Int
    var kind: Kind
    /// For `.memory` fields: the word at `arguments[pointer] + offset`.
    var memory: (pointer: Int, offset: Int)? = nil

    var pairIndex: Int? {
        if case .levelOption = kind { return index + 1 }
        return nil
    }

    func features(_ syscall: Int, word: UInt64, pairWord: UInt64?) -> [SubFeature] {
        switch kind {
        case .value(let table, let mask, let skipZero):
            let value = word & mask
            if skipZero && value == 0 { return [] }
            return [feature(syscall, FeatureConstants.nameOrHex(value, in: table), mask: mask, value: value)]
        case .bits(let table, let mask, let zeroName):
            let set = word & mask
            if set == 0 { return zeroName.map { [feature(syscall, $0, mask: mask, value: 0)] } ?? [] }
            return Self.bits(of: set).map { feature(syscall, FeatureConstants.nameOrHex($0, in: table), mask: $0, value: $0) }
        case .levelOption:
            guard let pairWord else { return [] }
            return [levelOption(syscall, level: word & low32, option: pairWord & low32)]
        }
    }

    func allNamed(_ syscall: Int) -> [SubFeature] {
        switch kind {
        case .value(let table, let mask, let skipZero):
            return FeatureConstants.entries(table).filter { $0.value & mask == $0.value && !(skipZero && $0.value == 0) }
                .map { feature(syscall, $0.name, mask: mask, value: $0.value) }
        case .bits(let table, let mask, let zeroName):
            let named = FeatureConstants.entries(table).filter { $0.value & mask == $0.value }
                .map { feature(syscall, $0.name, mask: $0.value, value: $0.value) }
            return (zeroName.map { [feature(syscall, $0, mask: mask, value: 0)] } ?? []) + named
        case .levelOption:
            return Self.optionTables.sorted { $0.key < $1.key }.flatMap { level, table in
                FeatureConstants.entries(table).map { levelOption(syscall, level: level, option: $0.value) }
            }
        }
    }

    /// The feature named `name` (a table name or hex), or nil.
    func feature(_ syscall: Int, named name: String) -> SubFeature? {
        switch kind {
        case .value(let table, let mask, let skipZero):
            guard let value = FeatureConstants.parse(name, in: table), value & mask == value,
                  !(skipZero && value == 0) else { return nil }
            return feature(syscall, FeatureConstants.nameOrHex(value, in: table), mask: mask, value: value)
        case .bits(let table, let mask, let zeroName):
            if name == zeroName { return feature(syscall, name, mask: mask, value: 0) }
            guard let bit = FeatureConstants.parse(name, in: table), bit != 0, bit & (bit - 1) == 0, bit & mask == bit
            else { return nil }
            return feature(syscall, FeatureConstants.nameOrHex(bit, in: table), mask: bit, value: bit)
        case .levelOption:
            let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, let level = FeatureConstants.parse(parts[0], in: .socketLevel) else { return nil }
            let option: UInt64?
            if let table = Self.optionTables[level] {
                option = FeatureConstants.parse(parts[1], in: table)
            } else {
                option = parts[1].hasPrefix("0x") ? UInt64(parts[1].dropFirst(2), radix: 16) : nil
            }
            guard let option, level <= low32, option <= low32 else { return nil }
            return levelOption(syscall, level: level, option: option)
        }
    }

    private func feature(_ syscall: Int, _ name: String, mask: UInt64, value: UInt64) -> SubFeature {
        let match: FeatureMatch
        if let memory {
            match = .memory(pointer: memory.pointer, offset: memory.offset, mask: mask, value: value)
        } else {
            match = .arguments([ArgumentCondition(index: index, value: value, mask: mask)])
        }
        return SubFeature(syscall: syscall, argument: argument, name: name, match: match)
    }

    private func levelOption(_ syscall: Int, level: UInt64, option: UInt64) -> SubFeature {
        let optionName = Self.optionTables[level].map { FeatureConstants.nameOrHex(option, in: $0) }
            ?? FeatureConstants.hex(option)
        let name = FeatureConstants.nameOrHex(level, in: .socketLevel) + "/" + optionName
        return SubFeature(syscall: syscall, argument: argument, name: name, match: .arguments([
            ArgumentCondition(index: index, value: level, mask: low32),
            ArgumentCondition(index: index + 1, value: option, mask: low32),
        ]))
    }

    /// Level → the table naming its options (SOL_SOCKET, SOL_IP, SOL_TCP, SOL_UDP, SOL_IPV6).
    static let optionTables: [UInt64: ConstantTable] = {
        var tables: [UInt64: ConstantTable] = [:]
        let pairs: [(String, ConstantTable)] = [
            ("SOL_SOCKET", .socketOption), ("SOL_IP", .ipOption), ("SOL_TCP", .tcpOption),
            ("SOL_UDP", .udpOption), ("SOL_IPV6", .ipv6Option),
        ]
        for (level, table) in pairs {
            if let value = FeatureConstants.value(named: level, in: .socketLevel) { tables[value] = table }
        }
        return tables
    }()

    /// The set bits of `word`, lowest first.
    static func bits(of word: UInt64) -> [UInt64] {
        var rest = word
        var out: [UInt64] = []
        while rest != 0 {
            let bit = rest & (~rest &+ 1)
            out.append(bit)
            rest &= rest - 1
        }
        return out
    }
}

/// The fields of one system call.
struct FeatureSpec: Sendable {
    var fields: [FeatureField]
}

extension FeatureDecoder {
    private static func value(_ argument: String, _ index: Int, _ table: ConstantTable, mask: UInt64 = low32,
                              skipZero: Bool = false) -> FeatureField {
        FeatureField(argument: argument, index: index, kind: .value(table, mask: mask, skipZero: skipZero))
    }

    private static func bits(_ argument: String, _ index: Int, _ table: ConstantTable, mask: UInt64,
                             zeroName: String? = nil) -> FeatureField {
        FeatureField(argument: argument, index: index, kind: .bits(table, mask: mask, zeroName: zeroName))
    }

    /// open/openat flags: the access mode (O_ACCMODE, a value) and every other bit.
    private static func openFlags(_ index: Int) -> [FeatureField] {
        [value("flags", index, .openAccessMode, mask: 0x3), bits("flags", index, .openFlagBit, mask: low32 & ~0x3)]
    }

    /// mmap flags: the type (MAP_TYPE, a value), the huge page size (bits 26-31, a value when set)
    /// and every other bit.
    private static let mmapFlags: [FeatureField] = [
        value("flags", 3, .mmapType, mask: 0xf),
        bits("flags", 3, .mmapFlagBit, mask: ~UInt64(0xfc00_000f)),
        value("flags", 3, .mmapHugeSize, mask: 0xfc00_0000, skipZero: true),
    ]

    private static func prot(_ index: Int) -> FeatureField {
        bits("prot", index, .protectionBit, mask: .max, zeroName: "PROT_NONE")
    }

    private static let futexFlags: UInt64 = 0x180  // FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME

    static let specs: [Int: FeatureSpec] = {
        var specs: [String: [FeatureField]] = [
            "ioctl": [value("request", 1, .ioctlRequest)],
            "fcntl": [value("cmd", 1, .fcntlCommand)],
            "prctl": [value("option", 0, .prctlOption)],
            "arch_prctl": [value("code", 0, .archPrctlCode)],
            "getrlimit": [value("resource", 0, .rlimitResource)],
            "setrlimit": [value("resource", 0, .rlimitResource)],
            "prlimit64": [value("resource", 1, .rlimitResource)],
            "mmap": [prot(2)] + mmapFlags,
            "mprotect": [prot(2)],
            "madvise": [value("advice", 2, .madviseAdvice)],
            "futex": [value("op", 1, .futexOperation, mask: low32 & ~futexFlags),
                      bits("op", 1, .futexFlag, mask: futexFlags)],
            "socket": [value("domain", 0, .addressFamily), value("type", 1, .socketType, mask: 0xf),
                       bits("type", 1, .socketTypeFlag, mask: low32 & ~0xf)],
            "setsockopt": [FeatureField(argument: "level/optname", index: 1, kind: .levelOption)],
            "getsockopt": [FeatureField(argument: "level/optname", index: 1, kind: .levelOption)],
            // clone's low byte (CSIGNAL) is the exit signal, not flags.
            "clone": [bits("flags", 0, .cloneFlag, mask: ~UInt64(0xff)),
                      value("exit_signal", 0, .signal, mask: 0xff, skipZero: true)],
            "clone3": [FeatureField(argument: "flags", index: 0, kind: .bits(.cloneFlag, mask: .max, zeroName: nil),
                                    memory: (pointer: 0, offset: 0))],
            "open": openFlags(1),
            "openat": openFlags(2),
        ]
        // openat2: struct open_how's u64 flags, in memory.
        specs["openat2"] = [
            FeatureField(argument: "flags", index: 0, kind: .value(.openAccessMode, mask: 0x3, skipZero: false),
                         memory: (pointer: 2, offset: 0)),
            FeatureField(argument: "flags", index: 0, kind: .bits(.openFlagBit, mask: ~UInt64(0x3), zeroName: nil),
                         memory: (pointer: 2, offset: 0)),
        ]
        var out: [Int: FeatureSpec] = [:]
        for (name, fields) in specs {
            guard let number = SyscallTable.number(named: name) else { preconditionFailure("no syscall \(name)") }
            out[number] = FeatureSpec(fields: fields)
        }
        return out
    }()
}
