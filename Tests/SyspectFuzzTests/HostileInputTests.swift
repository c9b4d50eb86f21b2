import Foundation
import SyspectCore
import SyspectFuzz
import SyspectTestSupport
import Testing

/// The committed seed corpus (Tests/Fuzz/corpus/<target>/).
func corpusFolder(_ target: FuzzTarget) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus/\(target.rawValue)").path
}

/// Every parser of user files under the seed corpus and seeded mutations of it: no crash (a trap
/// ends the test process), no hang, every rejection one line naming the file and its line.
/// SYSPECT_FUZZ_RUNS (default 1500 per target) and SYSPECT_FUZZ_SEED widen the search.
@Suite struct HostileInputTests {
    static let runs = ProcessInfo.processInfo.environment["SYSPECT_FUZZ_RUNS"].flatMap(Int.init) ?? 1500
    static let seed = ProcessInfo.processInfo.environment["SYSPECT_FUZZ_SEED"].flatMap(UInt64.init) ?? 12

    @Test(arguments: FuzzTarget.allCases)
    func corpusSeedsObeyTheRules(_ target: FuzzTarget) throws {
        let files = try Corpus.files([corpusFolder(target)])
        #expect(files.count >= 2, "the \(target.rawValue) corpus needs seeds")
        for (file, bytes) in zip(files, try Corpus.load(files)) {
            #expect(throws: Never.self, "\(file)") { try target.check(Data(bytes)) }
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func mutatedInputsObeyTheRules(_ target: FuzzTarget) throws {
        let seeds = try Corpus.load(try Corpus.files([corpusFolder(target)]))
        var mutator = Mutator(seeds: seeds, tokens: Mutator.tokens(for: target), seed: Self.seed)
        var rejected = 0
        var accepted = 0
        let start = Date()
        var slowest = 0.0
        for run in 0..<Self.runs {
            let input = mutator.input()
            let began = Date()
            do {
                if try target.check(Data(input)) == nil { accepted += 1 } else { rejected += 1 }
            } catch {
                Issue.record("\(target.rawValue) run \(run) (seed \(Self.seed)): \(error); input: \(InputText.escaped(String(decoding: input, as: UTF8.self), limit: 300))")
                return
            }
            slowest = max(slowest, Date().timeIntervalSince(began))
        }
        // The mutations reach both sides of the parser.
        #expect(rejected > Self.runs / 20)
        #expect(accepted > 0 || target == .traceJSON)
        // No input of up to 16 KiB is slow (a hang would be seconds); generous for a loaded debug build.
        #expect(slowest < 2, "slowest \(target.rawValue) input took \(slowest) s")
        _ = start
    }

    // MARK: - Hostile inputs found by fuzzing or by reading the parsers (each a regression)

    @Test func specKeyWithALineBreakIsEscaped() throws {
        let text = "name: x\n\"bad\\nkey\\u001b[2J\": 1\n"
        let message = try #require(try FuzzTarget.spec.check(Data(text.utf8)))
        #expect(message.contains(#"unknown key `bad\nkey\u{1B}[2J`"#))
        #expect(message.hasPrefix("fuzz-spec.yaml:2: "))
    }

    @Test func specYamlReaderErrorsNameTheLine() throws {
        // A control character is a libyaml reader error (its description quotes the file over lines).
        let message = try #require(try FuzzTarget.spec.check(Data("name: x\nworkload: y\u{7}\n".utf8)))
        #expect(message.hasPrefix("fuzz-spec.yaml:2: not valid YAML text"))
    }

    @Test func specNestedPastLibyamlsLimitSaysHowDeep() throws {
        let text = "name: x\ncommand: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        let message = try #require(try FuzzTarget.spec.check(Data(text.utf8)))
        #expect(message.hasPrefix("fuzz-spec.yaml:2: not valid YAML: nested over 1000 levels deep"))
    }

    @Test func costsFileWithCRLFLineEndingsParses() throws {
        #expect(try FuzzTarget.costs.check(Data("read 1\r\nwrite 2\r\n".utf8)) == nil)
        let message = try #require(try FuzzTarget.costs.check(Data("read 1\r\nwrite x\r\n".utf8)))
        #expect(message.hasPrefix("fuzz-costs.txt:2: cost 'x'"))
    }

    @Test func osListWithThousandsOfBadNamesIsShortAndFast() throws {
        let text = (1...20_000).map { "bad\($0)\u{1B}" }.joined(separator: "\n") + "\n" + String(repeating: "x", count: 100_000)
        let start = Date()
        let message = try #require(try FuzzTarget.osList.check(Data(text.utf8)))
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(message.contains("line 1: 'bad1\\u{1B}'"))
        #expect(message.contains("and 19998 more"))
    }

    @Test func csvRowQuotedEscaped() throws {
        let message = try #require(try FuzzTarget.dynCSV.check(Data("0,Y,N,N,N\n1,Y,\u{1B}[31m,N,N\n".utf8)))
        #expect(message.hasPrefix("fuzz/dyn.csv:2: bad row '1,Y,\\u{1B}[31m,N,N'"))
    }

    @Test func traceJSONSyntaxErrorNamesTheLine() throws {
        let message = try #require(try FuzzTarget.traceJSON.check(Data("{\n\"schemaVersion\": 1,\n\"result\": tru }".utf8)))
        #expect(message.contains("line 3: not valid JSON"))
        let wrongType = try #require(try FuzzTarget.traceJSON.check(Data(#"{"schemaVersion": 1, "result": {"census": [{"arch": "x86_64", "number": "1", "name": "write"}]}}"#.utf8)))
        #expect(wrongType.contains("at result.census[0].number: expected a number"))
    }
}

/// The CLI on a bad file of each kind: the documented exit status (docs/fuzzing.md) and exactly
/// one line on standard error naming the file and the line.
@Suite struct HostileFileCLITests {
    let folder = "/var/tmp/syspect-fuzz-tests/\(UUID().uuidString.prefix(8))"

    func syspectBinary() throws -> String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("syspect").path
        let found = [ProcessInfo.processInfo.environment["SYSPECT_BINARY"], beside].compactMap { $0 }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "build syspect first (swift build) or set SYSPECT_BINARY")
    }

    /// Writes `contents` at `name` under the test folder; returns the path.
    func write(_ name: String, _ contents: [UInt8]) throws -> String {
        let path = "\(folder)/\(name)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(contents)))
        return path
    }

    /// Runs syspect; checks the status and that standard error is one line holding every fragment.
    func expectRejection(_ arguments: [String], status: Int32, _ fragments: [String]) throws {
        let output = try runProgram(try syspectBinary(), arguments)
        #expect(output.status == status, "\(arguments): \(output.stderr)")
        let lines = output.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "one line expected: \(output.stderr)")
        #expect(InputText.isOneLine(String(lines[0])), "\(output.stderr)")
        for fragment in fragments { #expect(output.stderr.contains(fragment), "\(fragment) not in: \(output.stderr)") }
    }

    @Test func exploreBadSpecExits2() throws {
        let db = "\(folder)/x.db"
        let yaml = try write("bad.yaml", Array("name: x\nworkload: {name: y, kind: health}\ncommand: [\"a\n\u{1B}[2J".utf8))
        try expectRejection(["explore", yaml, "--db", db], status: 2, ["syspect explore: \(yaml):", "not valid YAML"])
        let key = try write("key.yaml", Array("name: x\n\"we\\u2028ird\": 1\n".utf8))
        try expectRejection(["explore", key, "--db", db], status: 2, ["\(key):2: unknown key `we\\u{2028}ird`"])
        let binary = try write("binary.yaml", [0x6E, 0x3A, 0x20, 0xFF, 0xFE, 0x0A])
        try expectRejection(["explore", binary, "--db", db], status: 2, ["\(binary):1: not UTF-8 text; save the spec file as UTF-8"])
        try expectRejection(["explore", "\(folder)/absent.yaml", "--db", db], status: 2, ["\(folder)/absent.yaml: cannot read the spec file", "check the path"])
    }

    @Test func planBadOSListAndCostsExit1() throws {
        let list = try write("my-os.syscalls", Array("read\nwrit\u{7}e\n".utf8))
        try expectRejection(["plan", "--os", list], status: 1, ["syspect plan: support list \(list):", "line 2: 'writ\\u{7}e'"])
        let costs = try write("costs.txt", Array("read 1\r\nwrite -3\r\n".utf8))
        try expectRejection(["plan", "--os", "Kerla", "--costs", costs], status: 1, ["\(costs):2: cost '-3'"])
    }

    @Test func importLoupedbBadRowExits1AndImportsNothing() throws {
        let db = "\(folder)/import.db"
        let dyn = try write("loupedb/app/benchmark-app/run1/data/dyn.csv", Array("# syscall, used, works faked, works stubbed, works both\n0,Y,N,N,N\n1,Y,\u{1B}],N,N\n".utf8))
        try expectRejection(["db", "import-loupedb", "\(folder)/loupedb", "--db", db], status: 1, ["\(dyn):3: bad row '1,Y,\\u{1B}],N,N'", "nothing was imported"])
    }

    @Test func exportSeccompBadTraceExits1() throws {
        let json = try write("trace.json", Array("{\n  \"schemaVersion\": 1,\n  \"result\": {\"census\": [tru]}\n}\n".utf8))
        try expectRejection(["export", "seccomp", "--trace", json], status: 1, ["syspect export seccomp: \(json): not a `syspect trace --json` report", "line 3"])
    }
}
