/// Two static sets of one application side by side: syspect's own analysis against another
/// (loupedb's published `static_binary.csv`), with their symmetric difference (issue 13, Must 2).
/// Pure: `show` prints it, tests derive their expectations from the same sets.
public struct StaticSetComparison: Sendable, Hashable, Codable {
    /// Counts of x86-64 syscalls each analysis lists.
    public var ours: Int
    public var theirs: Int
    /// Listed by both.
    public var common: Int
    /// Listed only by ours / only by theirs, ascending numbers.
    public var onlyOurs: [Int]
    public var onlyTheirs: [Int]

    public init(ours: Set<Int>, theirs: Set<Int>) {
        self.ours = ours.count
        self.theirs = theirs.count
        common = ours.intersection(theirs).count
        onlyOurs = ours.subtracting(theirs).sorted()
        onlyTheirs = theirs.subtracting(ours).sorted()
    }

    /// Jaccard similarity |ours ∩ theirs| / |ours ∪ theirs| (1 when both are empty).
    public var jaccard: Double {
        let union = ours + theirs - common
        return union == 0 ? 1 : Double(common) / Double(union)
    }

    /// One line, e.g. "ours 150, loupedb 163: 140 in both, 10 only ours (…), 23 only loupedb (…)",
    /// naming at most `names` calls of each difference.
    public func line(theirName: String = "loupedb", names: Int = 8) -> String {
        func list(_ numbers: [Int]) -> String {
            guard !numbers.isEmpty else { return "" }
            let shown = numbers.prefix(names).map { SyscallTable.displayName(of: $0) }
            return " (" + shown.joined(separator: ", ") + (numbers.count > names ? ", …" : "") + ")"
        }
        return "ours \(ours), \(theirName) \(theirs): \(common) in both, \(onlyOurs.count) only ours\(list(onlyOurs)), "
            + "\(onlyTheirs.count) only \(theirName)\(list(onlyTheirs))"
    }
}
