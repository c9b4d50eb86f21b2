import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Pure parsers of test suites' result formats: text in, test case id → outcome out (no I/O;
/// `SuiteScan` finds the files). Each accepts partial text (a suite still writing it): a line
/// cut short is ignored.
public enum SuiteParsers {

    // MARK: - automake

    /// automake's result word → outcome: PASS passes; SKIP and XFAIL (an expected failure) skip;
    /// FAIL, XPASS (an unexpected pass) and ERROR fail.
    static func automakeOutcome(_ word: Substring) -> CaseOutcome? {
        switch word {
        case "PASS": return .pass
        case "SKIP", "XFAIL": return .skip
        case "FAIL", "XPASS", "ERROR": return .fail
        default: return nil
        }
    }

    /// One automake `.trs` file of test `name` (its path without `.trs`). One `:test-result:`
    /// line: the case is `name`. Several (the TAP driver writes one per test point): one case
    /// per point, `name description` (see `pointIDs`) when the `.log`'s `RESULT: ...` lines match
    /// them, else `name N`. `nil` when the file has no result yet (the test still runs).
    public static func automake(trs: String, log: String? = nil, name: String) -> SuiteResults? {
        let words = trs.split(separator: "\n").compactMap { line -> CaseOutcome? in
            guard line.hasPrefix(":test-result:") else { return nil }
            let word = line.dropFirst(":test-result:".count).split(separator: " ").first ?? ""
            return automakeOutcome(word)
        }
        guard !words.isEmpty else { return nil }
        var results = SuiteResults()
        if words.count == 1 {
            results.add(name, words[0], format: .automake)
            return results
        }
        // The log's "PASS: t.sh 1 - parses" lines, in the same order as the .trs results.
        let base = lastComponent(name)
        let dir = parentPath(name)
        let points = (log ?? "").split(separator: "\n").compactMap { line -> TAPPoint? in
            guard let colon = line.firstIndex(of: ":"), automakeOutcome(line[..<colon]) != nil else { return nil }
            let rest = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard rest.hasPrefix(base + " ") else { return nil }
            return tapPoint(body: Substring(rest.dropFirst(base.count + 1)), ok: true)
        }
        let described = pointIDs(points).map { (dir.isEmpty ? "" : dir + "/") + base + " " + $0 }
        for (i, outcome) in words.enumerated() {
            let id = described.count == words.count ? described[i] : "\(name) \(i + 1)"
            results.add(id, outcome, format: .automake)
        }
        return results
    }

    /// automake's console lines (`PASS: tests/hello-1`, serial and parallel harnesses) in a
    /// suite's output: for suites that write no `.trs` file.
    public static func automakeConsole(_ output: String) -> SuiteResults {
        var results = SuiteResults()
        // A TAP-driver test's lines ("PASS: t.sh 1 - parses"), per test, in order.
        var points: [String: [(TAPPoint, CaseOutcome)]] = [:]
        var tests: [String] = []
        for line in output.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  let outcome = automakeOutcome(line[..<colon]) else { continue }
            let rest = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !rest.isEmpty else { continue }
            if let space = rest.firstIndex(of: " "), let point = tapPoint(body: rest[space...], ok: true) {
                let test = String(rest[..<space])
                if points[test] == nil { tests.append(test) }
                points[test, default: []].append((point, outcome))
                continue
            }
            results.add(stripDirective(rest), outcome, format: .automakeConsole)
        }
        // Named like the .trs path names them: by description (`pointIDs`), not by number.
        for test in tests {
            let lines = points[test]!
            for (id, (_, outcome)) in zip(pointIDs(lines.map(\.0)), lines) {
                results.add("\(test) \(id)", outcome, format: .automakeConsole)
            }
        }
        return results
    }

    /// "3 - net # SKIP no network" → "3 - net".
    static func stripDirective(_ text: String) -> String {
        guard let hash = text.range(of: " # ") ?? text.range(of: "\t# ") else { return text }
        return String(text[..<hash.lowerBound]).trimmingCharacters(in: .whitespaces)
    }

    // MARK: - TAP

    /// Test Anything Protocol (12-14). A test point `ok N - description` is the case
    /// `description` (`N - description` when not unique, `N` alone without one: `pointIDs`;
    /// points must be numbered), prefixed by `prefix` (the test
    /// file's name when one stream holds one file). `# SKIP` and `# TODO` skip; `Bail out!`
    /// marks the results aborted; with a plan `1..N`, points never reported fail once the stream
    /// is `complete`. Subtests (indented by 4 spaces, introduced by `# Subtest: name` or
    /// followed by their parent's point) are cases `parent/N - description`.
    public static func tap(_ text: String, prefix: String = "", complete: Bool = true) -> SuiteResults {
        var results = SuiteResults()
        // Pending subtest points per depth, waiting for their parent's point.
        var pending: [Int: [(String, CaseOutcome)]] = [:]
        var subtestNames: [Int: String] = [:]
        var plan: [Int: Int] = [:]   // depth → planned count
        var seen: [Int: Set<Int>] = [:]  // depth → numbers reported
        var sawTAP = false
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { raw in
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let indent = line.prefix { $0 == " " }.count
            let body = line.dropFirst(indent)
            return (depth: indent / 4, body: body, point: tapPoint(body))
        }
        // Descriptions seen more than once at a depth keep their numbers (`pointIDs`).
        var repeated: [Int: Set<String>] = [:]
        for (depth, points) in Dictionary(grouping: lines.filter { $0.point != nil }, by: \.depth) {
            repeated[depth] = Self.repeatedDescriptions(points.compactMap(\.point))
        }
        for (depth, body, parsed) in lines {
            if body.hasPrefix("Bail out!") {
                results.aborted = true
                results.formats.insert(.tap)
                break
            }
            if body.hasPrefix("# Subtest") {
                let name = body.drop { $0 != ":" }.dropFirst().trimmingCharacters(in: .whitespaces)
                // "    # Subtest: name" stands at the subtest's own indentation (some producers
                // write it at the parent's).
                let level = max(depth, 1)
                subtestNames[level] = name.isEmpty ? nil : name
                pending[level] = []
                continue
            }
            if depth == 0, let count = tapPlan(body) {
                plan[0] = count
                sawTAP = true
                continue
            }
            guard let point = parsed else { continue }
            sawTAP = true
            let number = point.number
            seen[depth, default: []].insert(number)
            let id = Self.pointID(point, repeated: repeated[depth] ?? [])
            // This point closes the subtests one level deeper.
            if let subs = pending.removeValue(forKey: depth + 1) {
                let parent = subtestNames.removeValue(forKey: depth + 1) ?? id
                pending[depth, default: []].append(contentsOf: subs.map { ("\(parent)/\($0.0)", $0.1) })
            }
            pending[depth, default: []].append((id, point.outcome))
            if depth == 0 {
                for (subID, outcome) in pending.removeValue(forKey: 0) ?? [] {
                    results.add(prefix + subID, outcome, format: .tap)
                }
            }
        }
        // Points of an unfinished subtest (cut short): report them as they are.
        for depth in pending.keys.sorted(by: >) {
            for (id, outcome) in pending[depth] ?? [] {
                let parent = subtestNames[depth].map { "\($0)/" } ?? ""
                results.add(prefix + (depth > 0 ? parent : "") + id, outcome, format: .tap)
            }
        }
        if let count = plan[0], complete || results.aborted, count > 0 {
            for number in 1...count where !(seen[0]?.contains(number) ?? false) {
                results.add(prefix + "\(number) (not reported)", .fail, format: .tap)
            }
        }
        if sawTAP { results.formats.insert(.tap) }
        return results
    }

    /// A test point's case id: its description, the stable part when a suite runs its points
    /// in an order that changes from run to run (a Perl hash's keys, lighttpd's
    /// `core-condition.t`); `N - description` when the description is among `repeated` (seen
    /// more than once in its stream), `N` when it has none.
    static func pointID(_ point: TAPPoint, repeated: Set<String>) -> String {
        if point.description.isEmpty { return "\(point.number)" }
        return repeated.contains(point.description) ? "\(point.number) - \(point.description)" : point.description
    }

    /// The case ids of one stream's points (`pointID`).
    static func pointIDs(_ points: [TAPPoint]) -> [String] {
        let repeated = repeatedDescriptions(points)
        return points.map { pointID($0, repeated: repeated) }
    }

    /// Descriptions that more than one of `points` has.
    static func repeatedDescriptions(_ points: [TAPPoint]) -> Set<String> {
        var counts: [String: Int] = [:]
        for point in points where !point.description.isEmpty { counts[point.description, default: 0] += 1 }
        return Set(counts.filter { $0.value > 1 }.keys)
    }

    /// `1..N` (optionally `# SKIP reason`): N.
    static func tapPlan(_ line: Substring) -> Int? {
        guard line.hasPrefix("1..") else { return nil }
        let digits = line.dropFirst(3).prefix { $0.isNumber }
        return Int(digits)
    }

    struct TAPPoint { var number: Int; var description: String; var outcome: CaseOutcome }

    static func tapPoint(_ line: Substring) -> TAPPoint? {
        let rest: Substring
        let ok: Bool
        if line.hasPrefix("not ok") { rest = line.dropFirst(6); ok = false }
        else if line.hasPrefix("ok") { rest = line.dropFirst(2); ok = true }
        else { return nil }
        guard rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
        return tapPoint(body: rest, ok: ok)
    }

    /// What follows `ok` / `not ok`: `N - description # directive` (also the rest of an
    /// automake TAP-driver log line after the test's name).
    static func tapPoint(body: Substring, ok: Bool) -> TAPPoint? {
        var rest = body.drop { $0 == " " || $0 == "\t" }
        // A point without its number is valid TAP but rare; requiring it keeps stray "ok"
        // lines of a suite's other output from counting as test points.
        let digits = rest.prefix { $0.isNumber }
        guard let number = Int(digits) else { return nil }
        rest = rest.dropFirst(digits.count).drop { $0 == " " || $0 == "\t" }
        if rest.hasPrefix("- ") { rest = rest.dropFirst(2) } else if rest == "-" { rest = "" }
        var description = String(rest)
        var outcome: CaseOutcome = ok ? .pass : .fail
        if let hash = description.range(of: "#") {
            let directive = description[hash.upperBound...].trimmingCharacters(in: .whitespaces).uppercased()
            if directive.hasPrefix("SKIP") || directive.hasPrefix("TODO") { outcome = .skip }
            if directive.hasPrefix("SKIP") || directive.hasPrefix("TODO") || hash.lowerBound == description.startIndex {
                description = String(description[..<hash.lowerBound])
            }
        }
        description = description.trimmingCharacters(in: .whitespaces)
        return TAPPoint(number: number, description: description, outcome: outcome)
    }

    // MARK: - Perl prove

    /// `prove` / `make test` (Test::Harness) summary lines: `t/basic.t ...... ok`,
    /// `t/net.t ........ skipped: no network`, and a failing file's verdict, which comes on the
    /// lines after its name once its diagnostics are out (`Dubious, test returned 255`, `Failed
    /// 2/3 subtests`, `No subtests run`). One case per test file; in verbose output (the file's
    /// TAP between its name and its verdict) also one case per test point, `file N - description`.
    public static func prove(_ output: String) -> SuiteResults {
        // Each file's verdict and its verbose test points, in order; ids once each file's points are known.
        var found: [(file: String, outcome: CaseOutcome, point: TAPPoint?)] = []
        var pending: String?
        for raw in output.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") || line.isEmpty { continue }
            if let dots = line.range(of: " .."), dots.lowerBound != line.startIndex {
                let name = String(line[..<dots.lowerBound])
                if !name.contains(" "), name.hasSuffix(".t") || name.contains("/") {
                    let verdict = line[dots.upperBound...].drop { $0 == "." }.trimmingCharacters(in: .whitespaces)
                    pending = nil
                    if let outcome = proveVerdict(verdict) { found.append((name, outcome, nil)) }
                    else if verdict.isEmpty { pending = name }
                    continue
                }
            }
            guard let name = pending else { continue }
            if let outcome = proveVerdict(line) {
                found.append((name, outcome, nil))
                if outcome == .pass { pending = nil }  // a failure may say more on the next lines
            } else if let point = tapPoint(Substring(line)) {
                found.append((name, point.outcome, point))
            }
        }
        var repeated: [String: Set<String>] = [:]
        for (file, entries) in Dictionary(grouping: found, by: \.file) {
            repeated[file] = repeatedDescriptions(entries.compactMap(\.point))
        }
        var results = SuiteResults()
        for (file, outcome, point) in found {
            let id = point.map { "\(file) " + pointID($0, repeated: repeated[file] ?? []) } ?? file
            results.add(id, outcome, format: .prove)
        }
        return results
    }

    /// A file's verdict line: `ok` (maybe with its time, `ok   120 ms`), `skipped: why`, or a
    /// failure; a TAP point (`ok 3 - x`) is not one.
    static func proveVerdict(_ text: String) -> CaseOutcome? {
        if text == "ok" { return .pass }
        if text.hasPrefix("ok ") {
            let rest = text.dropFirst(3).drop { $0 == " " }
            return rest.first?.isNumber == true && !rest.contains("ms") ? nil : .pass
        }
        if text.hasPrefix("skipped") { return .skip }
        if text.hasPrefix("Failed") || text.hasPrefix("Dubious") || text.hasPrefix("No subtests run")
            || text.hasPrefix("Bad plan") { return .fail }
        return nil
    }

    // MARK: - meson

    /// meson's `testlog.json`: one JSON object per line, the case is its `name`
    /// ("project:suite / test"), `result` OK passes, SKIP and EXPECTEDFAIL skip, anything else
    /// (FAIL, UNEXPECTEDPASS, TIMEOUT, ERROR, INTERRUPT) fails.
    public static func meson(_ text: String) -> SuiteResults {
        var results = SuiteResults()
        for line in text.split(separator: "\n") {
            guard let data = line.data(using: .utf8),
                  let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  let name = object["name"] as? String, let result = object["result"] as? String else { continue }
            let outcome: CaseOutcome
            switch result {
            case "OK": outcome = .pass
            case "SKIP", "EXPECTEDFAIL": outcome = .skip
            default: outcome = .fail
            }
            results.add(name, outcome, format: .meson)
        }
        return results
    }

    // MARK: - ctest

    /// ctest's `Testing/Temporary/LastTest.log`: `N/M Testing: name` opens a test, `Test
    /// Passed.` / `Test Failed...` closes it. (ctest writes a test skipped by `SKIP_RETURN_CODE`
    /// as passed here; its JUnit output tells skips apart.)
    public static func ctest(_ text: String) -> SuiteResults {
        var results = SuiteResults()
        var current: String?
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let range = line.range(of: " Testing: "), line.first?.isNumber == true {
                current = String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
            } else if let name = current {
                if line == "Test Passed." { results.add(name, .pass, format: .ctest); current = nil }
                else if line.hasPrefix("Test Failed") { results.add(name, .fail, format: .ctest); current = nil }
                else if line.hasPrefix("Test Skipped") || line.hasPrefix("Test Not Run") || line.hasPrefix("Test Disabled") {
                    results.add(name, .skip, format: .ctest); current = nil
                }
            }
        }
        return results
    }

    // MARK: - JUnit XML

    /// JUnit XML (`<testsuites>`/`<testsuite>`/`<testcase>`): the case is `classname.name`
    /// (`name` alone when the class name is empty or equal to it); `<failure>` or `<error>`
    /// fails, `<skipped>` skips, a test case with neither passes. Text that is not JUnit XML,
    /// or XML cut short, gives the cases read so far.
    public static func junit(_ text: String) -> SuiteResults {
        let reader = JUnitReader()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = reader
        _ = parser.parse()
        return reader.results
    }

    final class JUnitReader: NSObject, XMLParserDelegate {
        var results = SuiteResults()
        var current: String?
        var outcome: CaseOutcome = .pass

        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            switch element {
            case "testcase":
                let name = attributes["name"] ?? ""
                let classname = attributes["classname"] ?? ""
                current = classname.isEmpty || classname == name ? name : "\(classname).\(name)"
                outcome = .pass
            case "failure", "error":
                if current != nil { outcome = .fail }
            case "skipped":
                if current != nil, outcome != .fail { outcome = .skip }
            default: break
            }
        }

        func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
            guard element == "testcase", let id = current else { return }
            if !id.isEmpty { results.add(id, outcome, format: .junit) }
            current = nil
        }
    }
}

/// The last component of a slash-separated path ("a/b.trs" → "b.trs").
func lastComponent(_ path: String) -> String {
    path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
}

/// A slash-separated path without its last component ("a/b/c" → "a/b", "c" → "").
func parentPath(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return String(path[..<slash])
}
