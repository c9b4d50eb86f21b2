import CSyspect
import SyspectCore

/// Counts calls and failures per (arch, number) on the tracer's hot path: flat arrays for the
/// usual numbers, a dictionary for anything else.
struct CensusCounter {
    private static let flatSize = 1024
    private var calls = [[Int]](repeating: [Int](repeating: 0, count: flatSize), count: Arch.allCases.count)
    private var failures = [[Int]](repeating: [Int](repeating: 0, count: flatSize), count: Arch.allCases.count)
    private var other: [Key: (calls: Int, failures: Int)] = [:]
    private var errnos: [Key: [Int32: Int]] = [:]
    /// Failures whose errno the eBPF census could not record (its failure map was full).
    private var unrecorded: [Key: Int] = [:]

    /// The errno name of failures counted without their errno (`unrecordedFailures`).
    static let unrecordedErrnoName = "unrecorded"

    struct Key: Hashable {
        var arch: Arch
        var number: Int
    }

    static func index(_ arch: Arch) -> Int {
        switch arch {
        case .x86_64: return 0
        case .i386: return 1
        case .x32: return 2
        }
    }

    mutating func call(_ arch: Arch, _ number: Int, count: Int = 1) {
        if number >= 0 && number < Self.flatSize {
            calls[Self.index(arch)][number] += count
        } else {
            other[Key(arch: arch, number: number), default: (0, 0)].calls += count
        }
    }

    /// Records the result of `count` counted calls: failures are results in -4095 ... -1.
    mutating func result(_ arch: Arch, _ number: Int, _ value: Int64, count: Int = 1) {
        guard value < 0 && value >= -4095 else { return }
        let key = addFailures(arch, number, count)
        errnos[key, default: [:]][Int32(-value), default: 0] += count
    }

    /// Records `count` failures of counted calls whose errno is unknown (listed under
    /// `unrecordedErrnoName`).
    mutating func unrecordedFailures(_ arch: Arch, _ number: Int, count: Int) {
        guard count > 0 else { return }
        unrecorded[addFailures(arch, number, count), default: 0] += count
    }

    @inline(__always)
    private mutating func addFailures(_ arch: Arch, _ number: Int, _ count: Int) -> Key {
        let key = Key(arch: arch, number: number)
        if number >= 0 && number < Self.flatSize {
            failures[Self.index(arch)][number] += count
        } else {
            other[key, default: (0, 0)].failures += count
        }
        return key
    }

    /// Entries sorted by calls (descending), then arch and number.
    func entries() -> [CensusEntry] {
        var out: [CensusEntry] = []
        for arch in Arch.allCases {
            let a = Self.index(arch)
            for n in 0..<Self.flatSize where calls[a][n] > 0 {
                out.append(entry(arch, n, calls[a][n], failures[a][n]))
            }
        }
        for (key, count) in other { out.append(entry(key.arch, key.number, count.calls, count.failures)) }
        return out.sorted {
            ($0.calls, Self.index($1.arch), $1.number) > ($1.calls, Self.index($0.arch), $0.number)
        }
    }

    private func entry(_ arch: Arch, _ number: Int, _ calls: Int, _ failures: Int) -> CensusEntry {
        let key = Key(arch: arch, number: number)
        var named = (errnos[key] ?? [:]).reduce(into: [String: Int]()) {
            $0[Self.errnoName($1.key), default: 0] += $1.value
        }
        if let lost = unrecorded[key] { named[Self.unrecordedErrnoName] = lost }
        return CensusEntry(arch: arch, number: number, name: SyscallTable.name(of: number, arch: arch) ?? "syscall_\(number)",
                           calls: calls, failures: failures, errnos: named)
    }

    /// "ENOENT", or "E<number>" for values glibc does not name.
    static func errnoName(_ value: Int32) -> String {
        if let name = csy_errno_name(value) { return String(cString: name) }
        return "E\(value)"
    }
}
