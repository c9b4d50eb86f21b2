import Foundation

/// A seeded, reproducible generator of hostile inputs from a seed corpus: the property-based
/// half of the fuzzing harness (the test suite and `syspect-fuzz mutate`; libFuzzer is the other).
public struct Mutator: Sendable {
    public var seeds: [[UInt8]]
    /// Byte strings the parsers give meaning to, inserted whole.
    public var tokens: [[UInt8]]
    public var maxLength: Int
    private var state: UInt64

    public init(seeds: [[UInt8]], tokens: [String], seed: UInt64, maxLength: Int = 16_384) {
        self.seeds = seeds.isEmpty ? [[]] : seeds
        self.tokens = (tokens + Self.commonTokens).map { Array($0.utf8) }
        self.maxLength = maxLength
        self.state = seed
    }

    /// Tokens every text parser may trip on: line breaks, quotes, numbers at the edges of Int
    /// and Double, control and non-ASCII characters, a byte-order mark, invalid UTF-8 is made by
    /// byte mutations.
    static let commonTokens = [
        "\n", "\r\n", "\r", "\t", " ", "#", ",", ":", "\"", "'", "\\", "\u{0}", "\u{1B}[2J", "\u{85}", "\u{2028}",
        "\u{FEFF}", "é", "😀", "-1", "0", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "1e308", "1e309", "nan", "inf", "-0", "0x10", "1073741824", "4294967296",
    ]

    /// Tokens of each target's grammar.
    public static func tokens(for target: FuzzTarget) -> [String] {
        switch target {
        case .spec:
            return ["name:", "workload:", "kind:", "command:", "targets:", "script:", "ready:", "port:", "delay:",
                    "timeouts:", "run:", "replicas:", "environment:", "metric:", "better:", "health", "benchmark",
                    "suite", "higher", "- ", "[", "]", "{", "}", "&a ", "*a", "!!str ", "!!int ", "---\n", "...\n",
                    "|\n", ">-\n", "? ", "%YAML 1.2\n", "<<: *a", "~", "null",
                    "results:", "directory:", "output:", "debian:", "package:", "binaries:", "${SYSPECT_PROBE_DIR}"]
        case .osList:
            return ["read", "write", "openat", "clone3", "futimensat", "# comment", "999", "547"]
        case .costs:
            return ["read 1", "write 2.5", "mmap 0", "openat", "1.5", "1e3", "-2"]
        case .dynCSV:
            return ["# syscall, used, works faked, works stubbed, works both\n", "0,Y,N,N,N", "Y", "N", "y", "n", ",Y", ",N"]
        case .staticCSV:
            return ["# syscall, used\n", "0,Y", "1,N", "Y", "N", ",Y", ",N"]
        case .traceJSON:
            return ["{", "}", "[", "]", "\"schemaVersion\"", ": 1", ": 2", "\"result\"", "\"census\"", "\"arch\"",
                    "\"x86_64\"", "\"i386\"", "\"number\"", "\"name\"", "\"calls\"", "null", "true", "false", "-1e999",
                    "\"\\ud800\"", "\"\\u0000\""]
        }
    }

    /// The next pseudo-random number (SplitMix64).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// A seed with one to five mutations stacked.
    public mutating func input() -> [UInt8] {
        var bytes = seeds[below(seeds.count)]
        for _ in 0...below(5) { mutate(&bytes) }
        if bytes.count > maxLength { bytes.removeLast(bytes.count - maxLength) }
        return bytes
    }

    mutating func mutate(_ bytes: inout [UInt8]) {
        let at = below(bytes.count + 1)
        switch below(9) {
        case 0 where !bytes.isEmpty:  // flip a bit
            let i = below(bytes.count)
            bytes[i] ^= UInt8(1 << below(8))
        case 1 where !bytes.isEmpty:  // any byte
            bytes[below(bytes.count)] = UInt8(truncatingIfNeeded: next())
        case 2, 3:  // a grammar token
            bytes.insert(contentsOf: tokens[below(tokens.count)], at: at)
        case 4 where !bytes.isEmpty:  // delete a range
            let start = below(bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + 1 + below(32)))
        case 5 where !bytes.isEmpty:  // copy a range elsewhere
            let start = below(bytes.count)
            let chunk = Array(bytes[start..<min(bytes.count, start + 1 + below(64))])
            bytes.insert(contentsOf: chunk, at: below(bytes.count + 1))
        case 6:  // a line of another seed
            let other = seeds[below(seeds.count)]
            let lines = other.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            bytes.insert(contentsOf: Array(lines[below(lines.count)]) + [UInt8(ascii: "\n")], at: at)
        case 7:  // cross over with another seed
            let other = seeds[below(seeds.count)]
            bytes = Array(bytes[..<at]) + Array(other[below(other.count + 1)...])
        case 8:  // a token or a range repeated (deep nesting, long lines, many lines)
            let token = bytes.isEmpty || below(2) == 0
                ? tokens[below(tokens.count)]
                : Array(bytes[below(bytes.count)...].prefix(1 + below(16)))
            let times = 1 + below(max(1, min(4096, maxLength / max(1, token.count))))
            bytes.insert(contentsOf: Array([[UInt8]](repeating: token, count: times).joined()), at: at)
        default:
            bytes.insert(UInt8(truncatingIfNeeded: next()), at: at)
        }
    }
}
