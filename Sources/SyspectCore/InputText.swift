import Foundation

/// Pieces of untrusted input shown in one-line error messages (docs/fuzzing.md): a rejection is
/// one printable line however hostile the file it quotes.
public enum InputText {
    /// `text` made safe to quote on one line: line breaks, tabs and other control characters
    /// escaped (`\n`, `\t`, `\u{1B}`), cut to at most `limit` characters with a trailing "…".
    public static func escaped(_ text: some StringProtocol, limit: Int = 60) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let piece: String.UnicodeScalarView
            switch scalar {
            case "\n": piece = "\\n".unicodeScalars
            case "\r": piece = "\\r".unicodeScalars
            case "\t": piece = "\\t".unicodeScalars
            default:
                piece = needsEscape(scalar)
                    ? "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars
                    : String.UnicodeScalarView([scalar])
            }
            if out.count + piece.count > limit { return String(out) + "…" }
            out.append(contentsOf: piece)
        }
        return String(out)
    }

    /// True when `message` is one printable line: no line break (LF, CR, VT, FF, NEL, U+2028,
    /// U+2029) and no control or format character (tab excepted).
    public static func isOneLine(_ message: String) -> Bool {
        message.unicodeScalars.allSatisfy { $0 == "\t" || !needsEscape($0) }
    }

    /// Control characters, line/paragraph separators and invisible format characters
    /// (bidirectional overrides, zero-width characters), which could hide or reorder a message.
    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator, .format, .surrogate, .unassigned, .privateUse:
            return true
        default:
            return false
        }
    }
}

extension InputText {
    /// One line saying what is wrong with a JSON document that failed to decode: where (`line N`
    /// for a syntax error, the key path for a wrong or missing value) and what.
    public static func decodingProblem(_ error: any Error, in json: Data) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the top level" : escaped(text.hasPrefix(".") ? String(text.dropFirst()) : text, limit: 120)
        }
        switch error as? DecodingError {
        case .typeMismatch(let type, let context)?:
            return "at \(path(context)): expected \(typeName(type))"
        case .valueNotFound(let type, let context)?:
            return "at \(path(context)): expected \(typeName(type)), found null"
        case .keyNotFound(let key, let context)?:
            return "at \(path(context)): missing key `\(escaped(key.stringValue))`"
        case .dataCorrupted(let context)? where !context.codingPath.isEmpty:
            return "at \(path(context)): \(escaped(context.debugDescription, limit: 120))"
        default:
            return syntaxProblem(json) ?? "not valid JSON (\(escaped("\(error)", limit: 120)))"
        }
    }

    /// "line N: …" for JSON that does not parse (Foundation names the byte offset), else nil.
    private static func syntaxProblem(_ json: Data) -> String? {
        do {
            _ = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
            return nil
        } catch {
            let detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
            var line = ""
            if let range = detail.range(of: #"character (\d+)"#, options: .regularExpression),
               let offset = Int(detail[range].dropFirst("character ".count)) {
                let newlines = json.prefix(offset).reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                line = "line \(newlines + 1): "
            }
            return "\(line)not valid JSON (\(escaped(detail, limit: 120)))"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int32.Type, is Int64.Type, is Double.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}
