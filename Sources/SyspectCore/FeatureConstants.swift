/// The tables of constant names that select sub-features (see `FeatureConstants+Generated.swift`,
/// generated from the machine's kernel and glibc headers by `scripts/gen-feature-constants`).
public enum ConstantTable: String, Sendable, Hashable, Codable, CaseIterable {
    case ioctlRequest, fcntlCommand, prctlOption, archPrctlCode, rlimitResource
    case protectionBit, mmapType, mmapFlagBit, mmapHugeSize, madviseAdvice
    case futexOperation, futexFlag
    case addressFamily, socketType, socketTypeFlag, socketLevel
    case socketOption, tcpOption, udpOption, ipOption, ipv6Option
    case cloneFlag, openFlagBit, openAccessMode, signal
}

/// Names of the values of vectored system call arguments, one name per value.
public enum FeatureConstants {
    private static let byValue: [ConstantTable: [UInt64: String]] = Dictionary(
        uniqueKeysWithValues: ConstantTable.allCases.map { table in
            (table, Dictionary(generatedEntries(table), uniquingKeysWith: { first, _ in first }))
        })
    private static let byName: [ConstantTable: [String: UInt64]] = Dictionary(
        uniqueKeysWithValues: ConstantTable.allCases.map { table in
            (table, Dictionary(generatedEntries(table).map { ($0.1, $0.0) }, uniquingKeysWith: { first, _ in first }))
        })

    /// The table's (value, name) pairs, ascending by value.
    public static func entries(_ table: ConstantTable) -> [(value: UInt64, name: String)] {
        generatedEntries(table).map { (value: $0.0, name: $0.1) }
    }

    /// The name of `value` in `table` ("F_SETFL"), or nil.
    public static func name(of value: UInt64, in table: ConstantTable) -> String? { byValue[table]?[value] }

    /// The value named `name` in `table`, or nil.
    public static func value(named name: String, in table: ConstantTable) -> UInt64? { byName[table]?[name] }

    /// The name of `value`, or the value in hex ("0x80045430") when the table does not name it.
    public static func nameOrHex(_ value: UInt64, in table: ConstantTable) -> String {
        name(of: value, in: table) ?? hex(value)
    }

    /// "0x80045430": how a value no table names is written in sub-feature names.
    public static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    /// The value of a name written by `nameOrHex`, or nil.
    public static func parse(_ name: String, in table: ConstantTable) -> UInt64? {
        if let value = value(named: name, in: table) { return value }
        guard name.hasPrefix("0x") else { return nil }
        return UInt64(name.dropFirst(2), radix: 16)
    }
}
