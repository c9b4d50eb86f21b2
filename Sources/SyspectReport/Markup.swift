/// A tiny HTML/SVG tree that escapes every text and attribute value when rendered, so names
/// coming from data (application names, workloads, notes) can never inject markup.
public indirect enum Markup: Sendable, Hashable {
    /// An element with attributes (rendered in the given order) and children.
    case element(String, [Attribute], [Markup])
    /// Text content, escaped when rendered.
    case text(String)
    /// Trusted markup written by syspect itself (the style sheet); never fed with data.
    case trusted(String)

    /// One `name="value"` pair; the value is escaped when rendered.
    public struct Attribute: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Elements that have no closing tag in HTML.
    static let voidElements: Set<String> = ["meta", "br", "hr", "img", "link", "input"]

    /// The serialized markup.
    public var rendered: String {
        var out = ""
        render(into: &out)
        return out
    }

    func render(into out: inout String) {
        switch self {
        case .text(let text):
            out += Markup.escape(text)
        case .trusted(let text):
            out += text
        case .element(let name, let attributes, let children):
            out += "<" + name
            for attribute in attributes {
                out += " " + attribute.name + "=\"" + Markup.escape(attribute.value) + "\""
            }
            if Markup.voidElements.contains(name) {
                out += ">"
                return
            }
            out += ">"
            for child in children { child.render(into: &out) }
            out += "</" + name + ">"
        }
    }

    /// Escapes `&`, `<`, `>`, `"` and `'` (safe in text and in double- or single-quoted attributes).
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}

/// Builders, so the report code reads like the markup it makes.
public func el(_ name: String, _ attributes: [(String, String)] = [], _ children: [Markup] = []) -> Markup {
    .element(name, attributes.map { Markup.Attribute($0.0, $0.1) }, children)
}

public func el(_ name: String, _ attributes: [(String, String)] = [], text: String) -> Markup {
    el(name, attributes, [.text(text)])
}

/// A number for SVG coordinates: integers without a fraction, others with at most two decimals.
func fmt(_ value: Double) -> String {
    if value == value.rounded() { return String(Int(value)) }
    return String((value * 100).rounded() / 100)
}
