import CSyspect
import Foundation
import SyspectCore
#if canImport(Glibc)
import Glibc
#endif

/// What an interposed call (or sub-feature, or pseudo-file access) returns instead of running.
public enum Replacement: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `-errno` (ENOSYS for a stub).
    case fail(errno: Int32)
    /// A success value.
    case fake(FakeValueRule)

    /// The paper's stub: `-ENOSYS`.
    public static let stub = Replacement.fail(errno: ENOSYSValue)

    /// The `SECCOMP_RET_ERRNO` data when a filter can apply it without the tracer.
    var kernelErrno: UInt16? {
        switch self {
        case .fail(let e) where (1...4095).contains(e): return UInt16(e)
        case .fake(let rule) where rule.isZero: return 0
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .fail(let e): return "-" + (String(validatingCString: csy_errno_name(e)) ?? String(e))
        case .fake(let rule): return rule.description
        }
    }
}

/// One sub-feature interposed alone: the calls matching `feature.match` get `replacement`, the
/// rest of the system call runs normally.
public struct FeatureInterposition: Sendable, Hashable, Codable {
    public var feature: SubFeature
    public var replacement: Replacement

    public init(_ feature: SubFeature, _ replacement: Replacement) {
        self.feature = feature
        self.replacement = replacement
    }
}

/// The tracer's side of `Interposition.fakeRules`, `.features` and `.files`: decides, at a
/// seccomp stop, whether this call is replaced and by what value. Built once per launch; nil
/// (no cost on the hot path) when the interposition has none of these.
struct ArgumentInterposer {
    private let inKernel: Bool
    private let fakeRules: [Int: FakeValueRule]
    private let features: [Int: [FeatureInterposition]]
    private let files: [String: FileMode]
    /// Numbers this interposer may answer (a flat table for the hot path).
    private let answers: [Bool]

    init?(_ interposition: Interposition) {
        guard !interposition.fakeRules.isEmpty || !interposition.features.isEmpty || !interposition.files.isEmpty
        else { return nil }
        inKernel = interposition.inKernel
        fakeRules = interposition.fakeRules
        features = Dictionary(grouping: interposition.features, by: \.feature.syscall)
        files = interposition.files
        var answers = [Bool](repeating: false, count: 1024)
        let numbers = Array(fakeRules.keys) + Array(features.keys) + (files.isEmpty ? [] : Array(PseudoFiles.pathArguments.keys))
        for n in numbers where (0..<answers.count).contains(n) { answers[n] = true }
        self.answers = answers
    }

    /// The value the call stopped at (a seccomp stop) returns instead of running, or nil when it runs.
    @inline(__always)
    func replacement(tid: Int32, number: Int, info: csy_syscall_info) -> Int64? {
        guard number >= 0, number < answers.count, answers[number] else { return nil }
        let a = info.args
        return replacement(tid: tid, number: number, arguments: [a.0, a.1, a.2, a.3, a.4, a.5])
    }

    /// The value a call with these arguments returns instead of running, or nil when it runs.
    func replacement(tid: Int32, number: Int, arguments: [UInt64]) -> Int64? {
        guard number >= 0, number < answers.count, answers[number] else { return nil }
        if let rule = fakeRules[number] { return Self.value(of: rule, tid: tid, arguments: arguments) }
        for f in features[number] ?? [] where Self.matches(f.feature.match, tid: tid, arguments: arguments) {
            switch f.replacement {
            case .fail(let e): return -Int64(e)
            case .fake(let rule): return Self.value(of: rule, tid: tid, arguments: arguments)
            }
        }
        if !files.isEmpty, let path = FeatureCensus.path(tid: tid, number: number, arguments: arguments),
           let mode = files[path] {
            return -Int64(mode.errno)
        }
        return nil
    }

    /// The filter rules these need when the census is off: sub-features on register arguments
    /// in the kernel (both 32-bit halves compared) when allowed, everything else trapped for the
    /// tracer. Conditional rules come first: a trap of the whole call must not shadow them.
    /// `kernelMayApply`: false while a census runs (every interposed call must reach the tracer
    /// to be counted).
    static func filterRules(_ interposition: Interposition, kernelMayApply: Bool) -> [FilterRule] {
        let trace = FilterAction.trace(data: 0)
        var conditional: [FilterRule] = []
        var trapped: Set<Int> = Set(interposition.fakeRules.keys)
        for f in interposition.features {
            switch f.feature.match {
            case .arguments(let conditions):
                let kernel = interposition.inKernel && kernelMayApply ? f.replacement.kernelErrno : nil
                conditional.append(FilterRule(number: f.feature.syscall, conditions: conditions,
                                              action: kernel.map(FilterAction.errno) ?? trace))
            case .memory:
                trapped.insert(f.feature.syscall)
            }
        }
        if !interposition.files.isEmpty { trapped.formUnion(PseudoFiles.pathArguments.keys) }
        return conditional + trapped.sorted().map { FilterRule(number: $0, action: trace) }
    }

    // MARK: - Values and matches

    static func value(of rule: FakeValueRule, tid: Int32, arguments: [UInt64]) -> Int64 {
        switch rule {
        case .constant(let v):
            return v
        case .argument(let i):
            return Int64(bitPattern: arguments[i])
        case .iovecTotal(let vector, let count):
            return iovecTotal(tid: tid, address: arguments[vector], count: arguments[count]) ?? 0
        case .messageTotal(let header):
            // struct msghdr (x86-64): msg_iov at offset 16, msg_iovlen at 24.
            guard let words = TraceeMemory.words(tid: tid, address: arguments[header] &+ 16, count: 2) else { return 0 }
            return iovecTotal(tid: tid, address: words[0], count: words[1]) ?? 0
        }
    }

    /// Sum of `iov_len` of `count` (at most IOV_MAX) `struct iovec` at `address`.
    static func iovecTotal(tid: Int32, address: UInt64, count: UInt64) -> Int64? {
        let n = Int(min(count, 1024))
        guard n > 0 else { return 0 }
        guard let words = TraceeMemory.words(tid: tid, address: address, count: 2 * n) else { return nil }
        return stride(from: 1, to: words.count, by: 2).reduce(Int64(0)) { $0 &+ Int64(bitPattern: words[$1]) }
    }

    static func matches(_ match: FeatureMatch, tid: Int32, arguments: [UInt64]) -> Bool {
        switch match {
        case .arguments(let conditions):
            return conditions.allSatisfy { $0.holds(arguments) }
        case .memory(let pointer, let offset, let mask, let value):
            guard pointer < arguments.count, arguments[pointer] != 0,
                  let word = FeatureCensus.word(tid: tid, address: arguments[pointer] &+ UInt64(offset))
            else { return false }
            return word & mask == value
        }
    }
}

/// Reads from a stopped tracee's memory (`/proc/TID/mem`, readable by its tracer; Glibc's module
/// map hides `process_vm_readv`). Used only for argument-dependent fakes and clone3 flags.
enum TraceeMemory {
    /// `count` 64-bit words at `address`, nil when unreadable.
    static func words(tid: Int32, address: UInt64, count: Int) -> [UInt64]? {
        guard count > 0, address != 0, address < UInt64(Int64.max) else { return nil }
        let fd = open("/proc/\(tid)/mem", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result = [UInt64](repeating: 0, count: count)
        let size = count * 8
        let read = result.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, off_t(address)) }
        return read == size ? result : nil
    }
}
