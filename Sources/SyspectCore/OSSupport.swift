/// The system calls an OS (or sandbox, or unikernel) already supports: the starting point of a
/// support plan. Read from a text file with one syscall per line (loupedb's `<OS>.syscalls`).
public struct OSSupport: Sendable, Hashable, Codable {
    /// Display name, e.g. "Kerla" or "Unikraft-7d6707f".
    public var name: String
    /// Supported x86-64 system call numbers.
    public var syscalls: Set<Int>

    public init(name: String, syscalls: Set<Int>) {
        self.name = name
        self.syscalls = syscalls
    }

    /// Parses a support list: one x86-64 syscall name or number per line, `#` starts a comment,
    /// blank lines and duplicates are tolerated. Throws `OSSupportError.unknownNames` listing every
    /// unknown name with the closest known names; the error names `file` (else `name`).
    public static func parse(name: String, text: String, file: String? = nil) throws(OSSupportError) -> OSSupport {
        let lenient = parseLenient(name: name, text: text)
        if !lenient.unknown.isEmpty {
            throw .unknownNames(list: file ?? name, lenient.unknown)
        }
        return lenient.support
    }

    /// Like `parse`, but unknown names are returned instead of thrown (the bundled loupedb lists
    /// contain one: Gvisor's `futimensat`, which has no x86-64 number). Names are escaped for
    /// one-line messages; only the first `suggestedNames` unknown names get suggestions (a
    /// hostile list of a million bad names must not take minutes).
    public static func parseLenient(name: String, text: String) -> (support: OSSupport, unknown: [UnknownSyscallName]) {
        let suggestedNames = 10
        var numbers = Set<Int>()
        var unknown: [UnknownSyscallName] = []
        for (index, rawLine) in textLines(text).enumerated() {
            let entry = rawLine.prefix { $0 != "#" }.trimmedEntry
            if entry.isEmpty { continue }
            if let number = Int(entry), number >= 0 {
                numbers.insert(number)
            } else if let number = SyscallTable.number(named: entry) {
                numbers.insert(number)
            } else {
                let suggestions = unknown.count < suggestedNames ? SyscallNameSuggestions.closest(to: entry) : []
                unknown.append(UnknownSyscallName(name: InputText.escaped(entry, limit: 40), line: index + 1, suggestions: suggestions))
            }
        }
        return (OSSupport(name: name, syscalls: numbers), unknown)
    }
}

/// A name in a support list that is not an x86-64 system call.
public struct UnknownSyscallName: Sendable, Hashable, Codable, CustomStringConvertible {
    public var name: String
    /// 1-based line in the list.
    public var line: Int
    /// The closest known names by edit distance (at most three).
    public var suggestions: [String]

    public var description: String {
        let hint = suggestions.isEmpty ? "" : " (closest: \(suggestions.joined(separator: ", ")))"
        return "line \(line): '\(name)'\(hint)"
    }
}

/// Errors of support-list parsing.
public enum OSSupportError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownNames(list: String, [UnknownSyscallName])

    public var description: String {
        switch self {
        case .unknownNames(let list, let names):
            let shown = 3
            let more = names.count > shown ? "; and \(names.count - shown) more" : ""
            return "support list \(list): unknown x86-64 system call name(s): "
                + names.prefix(shown).map(\.description).joined(separator: "; ") + more
                + ". Fix the names or use numbers."
        }
    }
}

/// "Did you mean" suggestions for syscall names.
public enum SyscallNameSuggestions {
    /// The known x86-64 names closest to `name` (Levenshtein distance, ties by name), at most
    /// `limit`, only those within a distance of max(2, name.count / 3).
    public static func closest(to name: String, limit: Int = 3) -> [String] {
        closest(to: name, among: SyscallTable.x86_64Names, limit: limit)
    }

    /// Same as `closest(to:)` over an arbitrary vocabulary (also used for OS and app names).
    public static func closest(to name: String, among candidates: [String], limit: Int = 3) -> [String] {
        let bound = max(2, name.count / 3)
        let lowered = name.lowercased()
        let length = lowered.unicodeScalars.count
        // The distance is at least the difference in length: skip the hopeless (and long) ones.
        let scored = Set(candidates).filter { abs($0.unicodeScalars.count - length) <= bound }
            .map { ($0, editDistance(lowered, $0.lowercased())) }
            .filter { $0.1 <= bound }
            .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
        return scored.prefix(limit).map(\.0)
    }

    /// Levenshtein distance between two strings (by Unicode scalar).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let substitution = previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }
}

/// The lines of a text file (LF or CRLF), without terminators; a final newline yields no extra
/// line. Splits on bytes: much faster than Character-wise splitting.
func textLines(_ text: String) -> [Substring] {
    var lines: [Substring] = []
    let utf8 = text.utf8
    var start = utf8.startIndex
    var index = start
    while index != utf8.endIndex {
        if utf8[index] == UInt8(ascii: "\n") {
            lines.append(Substring(utf8[start..<index]))
            start = utf8.index(after: index)
        }
        index = utf8.index(after: index)
    }
    if start != utf8.endIndex { lines.append(Substring(utf8[start..<utf8.endIndex])) }
    return lines
}

extension StringProtocol {
    /// The text without leading and trailing blanks, tabs and carriage returns.
    var trimmedEntry: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
