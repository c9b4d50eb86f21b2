import CSyspect
import Foundation
import SyspectCore

/// Counts sub-features and pseudo-files (paper section 5.4, issue 5), as the tracer's decoder
/// (`CallDecoder`): at the seccomp stop of a decoded call the arguments are decoded
/// (`FeatureDecoder`) and the named path resolved and normalised (`PseudoFiles`); when failures
/// are counted, the call's exit stop tells whether it failed. Lives on the tracer thread.
final class FeatureCensus: CallDecoder {
    /// The x86-64 calls the filter must trap for this census.
    static let numbers: Set<Int> = Set(FeatureDecoder.syscalls).union(PseudoFiles.pathArguments.keys)

    private let countFailures: Bool
    private var tally = FeatureTally()
    /// tid → what its call in flight used, until its exit stop.
    private var pending: [Int32: FeatureTally.Call] = [:]

    init(countFailures: Bool) { self.countFailures = countFailures }

    func observe(tid: Int32, info: csy_syscall_info) -> Bool {
        // A call whose exit stop never came (the thread left it another way): a call without a result.
        if let stale = pending.removeValue(forKey: tid) { tally.count(stale, failed: false) }
        let number = Int(truncatingIfNeeded: info.nr)
        let a = info.args
        let arguments = [a.0, a.1, a.2, a.3, a.4, a.5]
        var call = FeatureTally.Call(syscall: number)
        if FeatureDecoder.decodes(number) {
            let memory = FeatureDecoder.memoryOperand(of: number).flatMap { operand -> UInt64? in
                guard operand.pointer < arguments.count else { return nil }
                return Self.word(tid: tid, address: arguments[operand.pointer] &+ UInt64(operand.offset))
            }
            call.features = FeatureDecoder.decode(syscall: number, arguments: arguments, memory: memory)
        }
        if let path = Self.path(tid: tid, number: number, arguments: arguments), PseudoFiles.isPseudo(path) {
            call.path = path
        }
        guard call.uses else { return false }
        if countFailures {
            pending[tid] = call
            return true
        }
        tally.count(call, failed: false)
        return false
    }

    func observeExit(tid: Int32, info: csy_syscall_info) {
        guard let call = pending.removeValue(forKey: tid) else { return }
        tally.count(call, failed: info.is_error != 0)
    }

    /// The census so far. Calls whose exit stop never came (the thread died in them) are
    /// counted as calls without a result.
    func results() -> (features: [FeatureUse], pseudoFiles: [PseudoFileUse]) {
        var final = tally
        for call in pending.values { final.count(call, failed: false) }
        return (final.features, final.pseudoFiles)
    }

    /// The absolute normalised path the call names, nil when it names none or it is unreadable.
    static func path(tid: Int32, number: Int, arguments: [UInt64]) -> String? {
        guard let slot = PseudoFiles.pathArguments[number], slot.path < arguments.count,
              arguments[slot.path] != 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = csy_read_string(tid, arguments[slot.path], &buffer, buffer.count)
        guard length > 0 else { return nil }
        let raw = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var base: String? = nil
        if !raw.hasPrefix("/") {
            let dirfd = PseudoFiles.dirfd(of: number, arguments: arguments)
            base = ProgramPaths.readLink(dirfd == PseudoFiles.atFDCWD ? "/proc/\(tid)/cwd" : "/proc/\(tid)/fd/\(dirfd)")
        }
        return PseudoFiles.normalisedPath(raw, base: base)
    }

    /// The 64-bit word at `address` in the stopped tracee, nil when unreadable.
    static func word(tid: Int32, address: UInt64) -> UInt64? {
        TraceeMemory.words(tid: tid, address: address, count: 1)?.first
    }
}

/// The counts of a sub-feature and pseudo-file census. Pure: the tracer feeds it decoded calls.
struct FeatureTally: Sendable {
    /// What one call used.
    struct Call: Sendable {
        var syscall: Int
        var features: [SubFeature] = []
        /// The pseudo-file it named (normalised), if any.
        var path: String? = nil

        var uses: Bool { !features.isEmpty || path != nil }
    }

    private var featureCounts: [SubFeature: (calls: Int, failures: Int)] = [:]
    private var fileCounts: [String: (calls: [String: Int], failures: Int)] = [:]

    mutating func count(_ call: Call, failed: Bool) {
        let failure = failed ? 1 : 0
        for feature in call.features {
            let old = featureCounts[feature] ?? (0, 0)
            featureCounts[feature] = (old.calls + 1, old.failures + failure)
        }
        if let path = call.path {
            var entry = fileCounts[path] ?? ([:], 0)
            entry.calls[SyscallTable.displayName(of: call.syscall), default: 0] += 1
            entry.failures += failure
            fileCounts[path] = entry
        }
    }

    /// Sorted by system call, argument and value name.
    var features: [FeatureUse] {
        featureCounts.map { FeatureUse(feature: $0.key, calls: $0.value.calls, failures: $0.value.failures) }
            .sorted { $0.feature < $1.feature }
    }

    /// Sorted by path.
    var pseudoFiles: [PseudoFileUse] {
        fileCounts.map { PseudoFileUse(path: $0.key, calls: $0.value.calls, failures: $0.value.failures) }.sorted()
    }
}

/// Plain-text tables of a feature census for `syspect trace --features`.
public enum FeatureCensusTable {
    public static func render(_ result: TraceResult) -> String {
        let failures = result.failuresCounted
        let featureRows = result.features.map { use in
            [use.feature.syscallName, use.feature.argument, use.feature.name, String(use.calls),
             failures ? String(use.failures) : "-", use.feature.match.inKernel ? "" : "memory"]
        }
        let fileRows = result.pseudoFiles.map { use in
            [use.path, String(use.totalCalls), failures ? String(use.failures) : "-",
             use.calls.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")]
        }
        return table("sub-features:", ["syscall", "argument", "value", "calls", "failed", "match"], featureRows,
                     numeric: [3, 4])
            + "\n" + table("pseudo-files:", ["path", "calls", "failed", "by syscall"], fileRows, numeric: [1, 2])
    }

    static func table(_ title: String, _ header: [String], _ rows: [[String]], numeric: Set<Int>) -> String {
        guard !rows.isEmpty else { return title + " none\n" }
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        func line(_ row: [String]) -> String {
            var text = row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return numeric.contains(c) ? pad + cell : cell + pad
            }.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([title, line(header), rule] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// An array that decodes as empty when its key is absent: fields added to a versioned JSON
/// document (`TraceResult.features`) still read documents written before them.
@propertyWrapper
public struct EmptyIfAbsent<Element: Codable & Hashable & Sendable>: Codable, Hashable, Sendable {
    public var wrappedValue: [Element]

    public init(wrappedValue: [Element]) { self.wrappedValue = wrappedValue }

    public init(from decoder: Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode([Element].self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

extension KeyedDecodingContainer {
    /// A missing key decodes as an empty array.
    public func decode<Element>(_ type: EmptyIfAbsent<Element>.Type, forKey key: Key) throws -> EmptyIfAbsent<Element> {
        try decodeIfPresent(type, forKey: key) ?? EmptyIfAbsent(wrappedValue: [])
    }
}
