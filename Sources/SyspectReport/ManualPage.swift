import Foundation

/// A man page (roff, `man` macros) made from the CLI's own definition, as printed by
/// swift-argument-parser's `--experimental-dump-help` (tool-info JSON, version 0). One page for
/// the root command with a section per subcommand, so `man syspect` documents every command.
public enum ManualPage {
    /// The subset of argument-parser's tool-info schema a man page needs.
    public struct ToolInfo: Decodable, Sendable {
        public var command: Command
    }

    public struct Command: Decodable, Sendable {
        public var commandName: String
        public var abstract: String?
        public var discussion: String?
        public var shouldDisplay: Bool?
        public var subcommands: [Command]?
        public var arguments: [Argument]?
    }

    public struct Argument: Decodable, Sendable {
        public struct Name: Decodable, Sendable {
            public var kind: String
            public var name: String
        }
        public var kind: String
        public var shouldDisplay: Bool?
        public var isOptional: Bool?
        public var isRepeating: Bool?
        public var names: [Name]?
        public var valueName: String?
        public var defaultValue: String?
        public var abstract: String?
        public var discussion: String?
    }

    /// Decodes `--experimental-dump-help` output.
    public static func toolInfo(json: Data) throws -> ToolInfo {
        try JSONDecoder().decode(ToolInfo.self, from: json)
    }

    /// The page for section 1. `date` is printed in the footer (pass a fixed one for stable output).
    public static func render(_ info: ToolInfo, date: String, version: String) -> String {
        let root = info.command
        var out: [String] = [
            ".TH \(root.commandName.uppercased()) 1 \"\(date)\" \"\(root.commandName) \(version)\" \"User Commands\"",
            ".SH NAME",
            "\(root.commandName) \\- \(escape(root.abstract ?? ""))",
            ".SH SYNOPSIS",
            ".B \(root.commandName)",
            "[\\fIOPTIONS\\fR] \\fISUBCOMMAND\\fR",
        ]
        if let discussion = root.discussion, !discussion.isEmpty {
            out += [".SH DESCRIPTION", paragraphs(discussion)]
        }
        out.append(".SH OPTIONS")
        out += options(root.arguments ?? [])
        out.append(".SH COMMANDS")
        for command in visible(root.subcommands) {
            out += section(command, path: [root.commandName])
        }
        out += [
            ".SH EXIT STATUS",
            "0 on success; 64 for a usage error; the commands' own statuses are listed with each command.",
            ".SH SEE ALSO",
            "The project's README.md and docs/ folder.",
        ]
        return out.joined(separator: "\n") + "\n"
    }

    /// Every command path in the tree (e.g. "syspect export seccomp"), for tests and completions checks.
    public static func commandPaths(_ info: ToolInfo) -> [String] {
        func walk(_ command: Command, _ prefix: [String]) -> [String] {
            let path = prefix + [command.commandName]
            return [path.joined(separator: " ")] + visible(command.subcommands).flatMap { walk($0, path) }
        }
        return walk(info.command, [])
    }

    private static func visible(_ commands: [Command]?) -> [Command] {
        (commands ?? []).filter { ($0.shouldDisplay ?? true) && $0.commandName != "help" }
    }

    /// `--help` and `--version` are documented once, under the root command.
    private static func ownArguments(_ command: Command) -> [Argument] {
        (command.arguments ?? []).filter { argument in
            !(argument.names ?? []).contains { $0.kind == "long" && ($0.name == "help" || $0.name == "version") }
        }
    }

    private static func section(_ command: Command, path: [String]) -> [String] {
        let full = path + [command.commandName]
        var out = [".SS \(escape(full.joined(separator: " ")))"]
        if let abstract = command.abstract, !abstract.isEmpty { out.append(escape(abstract)) }
        out.append(".PP")
        out.append(".B \(escape(full.joined(separator: " ")))")
        out.append(synopsis(ownArguments(command)))
        if let discussion = command.discussion, !discussion.isEmpty {
            out += [".PP", paragraphs(discussion)]
        }
        let opts = options(ownArguments(command))
        if !opts.isEmpty { out += [".PP", "Options:", ".RS"] + opts + [".RE"] }
        for sub in visible(command.subcommands) { out += section(sub, path: full) }
        return out
    }

    private static func synopsis(_ arguments: [Argument]) -> String {
        arguments.filter { $0.shouldDisplay ?? true }.map { argument -> String in
            var text: String
            if argument.kind == "positional" {
                text = "\\fI\(escape(argument.valueName ?? "value"))\\fR"
            } else {
                text = "\\fB\(flagName(argument))\\fR"
                if argument.kind == "option" { text += " \\fI\(escape(argument.valueName ?? "value"))\\fR" }
            }
            if argument.isRepeating == true { text += " ..." }
            return argument.isOptional == true ? "[\(text)]" : text
        }.joined(separator: " ")
    }

    private static func options(_ arguments: [Argument]) -> [String] {
        arguments.filter { $0.shouldDisplay ?? true }.flatMap { argument -> [String] in
            var head: String
            if argument.kind == "positional" {
                head = "\\fI\(escape(argument.valueName ?? "value"))\\fR"
            } else {
                head = (argument.names ?? []).map { "\\fB\(dashes($0))\(escape($0.name))\\fR" }.joined(separator: ", ")
                if argument.kind == "option" { head += " \\fI\(escape(argument.valueName ?? "value"))\\fR" }
            }
            var text = escape(argument.abstract ?? "")
            if let value = argument.defaultValue, !value.isEmpty { text += " (default: \(escape(value)))" }
            return [".TP", head, text]
        }
    }

    private static func flagName(_ argument: Argument) -> String {
        guard let name = argument.names?.first(where: { $0.kind == "long" }) ?? argument.names?.first else { return "" }
        return dashes(name) + escape(name.name)
    }

    private static func dashes(_ name: Argument.Name) -> String {
        name.kind == "long" ? "\\-\\-" : "\\-"
    }

    /// Paragraphs separated by blank lines become `.PP`-separated roff text.
    private static func paragraphs(_ text: String) -> String {
        text.components(separatedBy: "\n\n").map { escape($0.replacingOccurrences(of: "\n", with: " ")) }
            .joined(separator: "\n.PP\n")
    }

    /// Roff-safe text: backslashes escaped, hyphens as minus signs, characters beyond ASCII as
    /// `\[uXXXX]` (troff reads its input as Latin-1), no line starting with a control character.
    static func escape(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
            .unicodeScalars.map { $0.isASCII ? String($0) : "\\[u" + hex($0.value) + "]" }.joined()
        return escaped.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix(".") || line.hasPrefix("'") ? "\\&" + line : String(line)
        }.joined(separator: "\n")
    }

    /// At least four upper-case hex digits, as groff's `\[uXXXX]` wants.
    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
