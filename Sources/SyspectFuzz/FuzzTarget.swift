import Foundation
import SyspectCore
import SyspectExplore
import SyspectPlan
import SyspectReport
import SyspectTrace

/// A parser of user files fed hostile input (docs/fuzzing.md). `check` parses one input the way
/// the CLI reads that file and enforces the rejection rules; a crash or hang is the parser's bug.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `syspect explore SPEC`: the YAML spec file.
    case spec
    /// `syspect plan --os FILE`: an OS support list (`<OS>.syscalls`).
    case osList = "os-list"
    /// `syspect plan --costs FILE`.
    case costs
    /// loupedb `dyn.csv` (`syspect db import-loupedb`, `--data`).
    case dynCSV = "dyn-csv"
    /// loupedb `static_binary.csv` / `static_sources.csv`.
    case staticCSV = "static-csv"
    /// `syspect trace --json` documents (`TraceReport.decode`, `export seccomp --trace`).
    case traceJSON = "trace-json"

    /// The file name the parser is given; every rejection must name it.
    public var fileName: String {
        switch self {
        case .spec: return "fuzz-spec.yaml"
        case .osList: return "fuzz-os.syscalls"
        case .costs: return "fuzz-costs.txt"
        case .dynCSV: return "fuzz/dyn.csv"
        case .staticCSV: return "fuzz/static_binary.csv"
        case .traceJSON: return "fuzz-trace.json"
        }
    }

    /// Parses `data`; returns the rejection message (nil: accepted). Throws when a rejection
    /// breaks a rule (not one line, no file name, a wrong or missing line number, too long).
    @discardableResult
    public func check(_ data: Data) throws(RuleViolation) -> String? {
        switch self {
        case .spec:
            // `AppSpec.load` reads UTF-8 only (anything else: "FILE:N: not UTF-8 text", a CLI test).
            guard let text = String(data: data, encoding: .utf8) else { return nil }
            do {
                _ = try AppSpec.parse(text: text, file: fileName, directory: "/nonexistent/syspect-fuzz")
                return nil
            } catch {
                // Only a stream without a document (nothing, comments, directives, a byte-order
                // mark; found by libFuzzer) has no line to point at.
                let empty = error.line == nil && error.message.hasPrefix("the spec file is empty")
                return try checked(error.description, line: error.line, lineRequired: !empty, lines: Self.lineCount(text))
            }
        case .osList:
            let text = String(decoding: data, as: UTF8.self)  // as `syspect plan` reads it
            do {
                _ = try OSSupport.parse(name: "fuzz-os", text: text, file: fileName)
                return nil
            } catch {
                guard case .unknownNames(_, let names) = error else { return nil }
                return try checked(error.description, line: names.first?.line, lineRequired: true, lines: Self.lineCount(text))
            }
        case .costs:
            let text = String(decoding: data, as: UTF8.self)
            do {
                _ = try SyscallCosts.parse(text: text, source: fileName)
                return nil
            } catch {
                guard case .badCostLine(let place, _) = error else {
                    throw RuleViolation(rule: "a costs file is only rejected for a bad line", message: error.description)
                }
                return try checked(error.description, line: Int(place.split(separator: ":").last ?? ""), lineRequired: true, lines: Self.lineCount(text))
            }
        case .dynCSV, .staticCSV:
            // `Loupedb.read` refuses files that are not UTF-8 before parsing them.
            guard let text = String(data: data, encoding: .utf8) else { return nil }
            var warnings: [String] = []
            do {
                if self == .dynCSV {
                    _ = try Loupedb.parseDyn(text: text, file: fileName, onBadRow: .skip, warnings: &warnings)
                } else {
                    _ = try Loupedb.parseStatic(text: text, file: fileName, onBadRow: .skip, warnings: &warnings)
                }
            } catch {
                throw RuleViolation(rule: "the skip policy never throws on a row", message: error.description)
            }
            // Every warning (printed one per line by `db import-loupedb`) obeys the same rules.
            let lines = Self.lineCount(text)
            for warning in warnings {
                try checked(warning, line: leadingLine(warning), lineRequired: true, lines: lines)
            }
            do {
                if self == .dynCSV {
                    _ = try Loupedb.parseDyn(text: text, file: fileName, onBadRow: .stop, warnings: &warnings)
                } else {
                    _ = try Loupedb.parseStatic(text: text, file: fileName, onBadRow: .stop, warnings: &warnings)
                }
                return nil
            } catch {
                guard case .badRow(_, let line, _, _) = error else { return nil }
                return try checked(error.description, line: line, lineRequired: true, lines: lines)
            }
        case .traceJSON:
            // The library decoder: any input ends in a value or a thrown error, never a trap.
            _ = try? TraceReport.decode(data)
            // The CLI reader (`export seccomp --trace FILE` prefixes the file, see ExportSeccompCommand).
            let text = String(decoding: data, as: UTF8.self)
            do {
                let (run, _) = try TraceCensus.run(json: Data(text.utf8), app: "fuzz")
                _ = SeccompProfile.make(for: [run])
                return nil
            } catch {
                let message = "\(fileName): \(error)"
                // A syntax error says "(line N: …)"; a wrong value names its key path instead.
                let line = message.range(of: "(line ").flatMap { Int(message[$0.upperBound...].prefix { $0.isASCII && $0.isNumber }) }
                return try checked(message, line: line, lineRequired: false, lines: Self.lineCount(text))
            }
        }
    }

    /// Enforces the rules on one message; returns it.
    @discardableResult
    func checked(_ message: String, line: Int?, lineRequired: Bool, lines: @autoclosure () -> Int) throws(RuleViolation) -> String {
        guard InputText.isOneLine(message) else { throw RuleViolation(rule: "one printable line", message: message) }
        guard message.contains(fileName) else { throw RuleViolation(rule: "names the file \(fileName)", message: message) }
        guard message.count <= Self.maxMessage + fileName.count else { throw RuleViolation(rule: "at most \(Self.maxMessage) characters besides the file name", message: message) }
        guard let line else {
            if lineRequired { throw RuleViolation(rule: "names the line", message: message) }
            return message
        }
        guard message.contains("\(fileName):\(line)") || message.contains("line \(line)") else {
            throw RuleViolation(rule: "says line \(line) as `\(fileName):\(line)` or `line \(line)`", message: message)
        }
        let count = lines()
        guard (1...count + 1).contains(line) else {
            throw RuleViolation(rule: "line \(line) exists (the input has \(count) lines)", message: message)
        }
        return message
    }

    /// A rejection longer than this (besides the file name) is not "a clear error".
    public static let maxMessage = 500

    /// The line of "FILE:N: …", if the message starts so.
    func leadingLine(_ message: String) -> Int? {
        guard message.hasPrefix(fileName + ":") else { return nil }
        return Int(message.dropFirst(fileName.count + 1).prefix { $0.isASCII && $0.isNumber })
    }

    /// Lines of `text` counting every line break a parser may count (LF, CR, CRLF, NEL, LS, PS,
    /// VT, FF): an upper bound for a line number.
    static func lineCount(_ text: String) -> Int {
        var count = 1
        var previous: Unicode.Scalar = " "
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": if previous != "\r" { count += 1 }
            case "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}": count += 1
            default: break
            }
            previous = scalar
        }
        return count
    }
}

/// A rejection that broke a rule of docs/fuzzing.md (or a parser that threw where it must not).
public struct RuleViolation: Error, Sendable, CustomStringConvertible {
    public var rule: String
    public var message: String

    public var description: String { "rejection breaks the rule '\(rule)': \(InputText.escaped(message, limit: 400))" }
}
