/// A set of up to 384 small integers (syscall indices in a plan's compact universe; Linux has
/// fewer syscalls than that) in six 64-bit words. Plain words rather than SIMD: the operations
/// stay fast in unoptimised (debug/test) builds too.
struct Bits: Hashable, Sendable {
    static let capacity = 384
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0, w4: UInt64 = 0, w5: UInt64 = 0

    static let empty = Bits()

    init() {}
    init<S: Sequence>(_ indices: S) where S.Element == Int {
        for i in indices { insert(i) }
    }

    var isEmpty: Bool { (w0 | w1 | w2 | w3 | w4 | w5) == 0 }

    /// One combine of the folded words: the searches hash many sets, and six SipHash rounds
    /// per set dominated their time.
    func hash(into hasher: inout Hasher) {
        let k: UInt64 = 0x9E37_79B9_7F4A_7C15
        hasher.combine(((((w0 &* k ^ w1) &* k ^ w2) &* k ^ w3) &* k ^ w4) &* k ^ w5)
    }

    private func word(_ k: Int) -> UInt64 {
        switch k {
        case 0: return w0
        case 1: return w1
        case 2: return w2
        case 3: return w3
        case 4: return w4
        default: return w5
        }
    }

    mutating func insert(_ i: Int) {
        let bit: UInt64 = 1 << UInt64(i & 63)
        switch i >> 6 {
        case 0: w0 |= bit
        case 1: w1 |= bit
        case 2: w2 |= bit
        case 3: w3 |= bit
        case 4: w4 |= bit
        default: w5 |= bit
        }
    }

    func contains(_ i: Int) -> Bool { word(i >> 6) & (1 << UInt64(i & 63)) != 0 }

    static func | (a: Bits, b: Bits) -> Bits {
        var r = Bits()
        r.w0 = a.w0 | b.w0; r.w1 = a.w1 | b.w1; r.w2 = a.w2 | b.w2
        r.w3 = a.w3 | b.w3; r.w4 = a.w4 | b.w4; r.w5 = a.w5 | b.w5
        return r
    }
    static func & (a: Bits, b: Bits) -> Bits {
        var r = Bits()
        r.w0 = a.w0 & b.w0; r.w1 = a.w1 & b.w1; r.w2 = a.w2 & b.w2
        r.w3 = a.w3 & b.w3; r.w4 = a.w4 & b.w4; r.w5 = a.w5 & b.w5
        return r
    }
    /// Elements of `a` not in `b`.
    static func - (a: Bits, b: Bits) -> Bits {
        var r = Bits()
        r.w0 = a.w0 & ~b.w0; r.w1 = a.w1 & ~b.w1; r.w2 = a.w2 & ~b.w2
        r.w3 = a.w3 & ~b.w3; r.w4 = a.w4 & ~b.w4; r.w5 = a.w5 & ~b.w5
        return r
    }
    static func |= (a: inout Bits, b: Bits) { a = a | b }

    var count: Int {
        w0.nonzeroBitCount + w1.nonzeroBitCount + w2.nonzeroBitCount
            + w3.nonzeroBitCount + w4.nonzeroBitCount + w5.nonzeroBitCount
    }

    /// Members, ascending.
    var indices: [Int] {
        var result: [Int] = []
        for k in 0..<6 {
            var w = word(k)
            while w != 0 {
                result.append(k * 64 + w.trailingZeroBitCount)
                w &= w - 1
            }
        }
        return result
    }
}

/// A set of application indices of any size (plan targets), hashable for de-duplication.
struct AppSet: Hashable, Sendable {
    private(set) var words: [UInt64]
    private(set) var count = 0

    init(capacity: Int) { words = Array(repeating: 0, count: (capacity + 63) / 64) }

    /// One combine of the folded words (see `Bits.hash(into:)`).
    func hash(into hasher: inout Hasher) {
        var folded: UInt64 = 0
        for w in words { folded = (folded &* 0x9E37_79B9_7F4A_7C15) ^ w }
        hasher.combine(folded)
    }

    func contains(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }

    mutating func insert(_ i: Int) {
        if !contains(i) {
            words[i >> 6] |= 1 << UInt64(i & 63)
            count += 1
        }
    }
}
