/// A set of up to 512 small integers (syscall indices in a plan's compact universe), as eight
/// 64-bit lanes: union, intersection and difference are single SIMD operations.
struct Bits: Hashable, Sendable {
    static let capacity = 512
    var lanes: SIMD8<UInt64> = .zero

    static let empty = Bits()

    init() {}
    init<S: Sequence>(_ indices: S) where S.Element == Int {
        for i in indices { insert(i) }
    }

    var isEmpty: Bool { lanes == .zero }

    mutating func insert(_ i: Int) { lanes[i >> 6] |= 1 << UInt64(i & 63) }
    func contains(_ i: Int) -> Bool { lanes[i >> 6] & (1 << UInt64(i & 63)) != 0 }

    static func | (a: Bits, b: Bits) -> Bits { var r = a; r.lanes = a.lanes | b.lanes; return r }
    static func & (a: Bits, b: Bits) -> Bits { var r = a; r.lanes = a.lanes & b.lanes; return r }
    /// Elements of `a` not in `b`.
    static func - (a: Bits, b: Bits) -> Bits { var r = a; r.lanes = a.lanes & ~b.lanes; return r }
    static func |= (a: inout Bits, b: Bits) { a.lanes |= b.lanes }

    var count: Int {
        var n = 0
        for lane in 0..<8 { n += lanes[lane].nonzeroBitCount }
        return n
    }

    /// Members, ascending.
    var indices: [Int] {
        var result: [Int] = []
        for lane in 0..<8 {
            var word = lanes[lane]
            while word != 0 {
                result.append(lane * 64 + word.trailingZeroBitCount)
                word &= word - 1
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

    func contains(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }

    mutating func insert(_ i: Int) {
        if !contains(i) {
            words[i >> 6] |= 1 << UInt64(i & 63)
            count += 1
        }
    }
}
