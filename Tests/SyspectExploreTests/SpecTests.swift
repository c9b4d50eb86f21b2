import Foundation
import SyspectCore
import Testing
@testable import SyspectExplore

@Suite struct SpecTests {
    let dir = FileManager.default.currentDirectoryPath

    func parse(_ text: String) throws(SpecError) -> AppSpec {
        try AppSpec.parse(text: text, file: "app.yaml", directory: dir)
    }

    func error(_ text: String) -> SpecError? {
        do { _ = try parse(text); return nil } catch { return error }
    }

    @Test func minimalSpecGetsTheDefaults() throws {
        let spec = try parse("""
            name: sqlite
            workload: {name: benchmark-sql, kind: benchmark}
            command: [sqlite3, probe.db, "SELECT 1;"]
            """)
        #expect(spec.name == "sqlite")
        #expect(spec.workload == "benchmark-sql")
        #expect(spec.kind == .benchmark)
        #expect(spec.command == ["sqlite3", "probe.db", "SELECT 1;"])
        #expect(spec.targets == ["sqlite3"])
        #expect(spec.script == nil)
        #expect(spec.replicas == 3)
        #expect(spec.readyTimeout == 10)
        #expect(spec.runTimeout == 60)
        #expect(spec.metricDirection == .higher)
        #expect(spec.targetIsCommand)
    }

    @Test func fullSpecParses() throws {
        let spec = try parse("""
            name: redis
            workload:
              name: benchmark-redis-benchmark
              kind: benchmark
            command: [redis-server, --port, "6379"]
            targets: [redis-server]
            script: /bin/true
            ready:
              port: 6379
            timeouts:
              ready: 5
              run: 20.5
            replicas: 2
            environment: {A: "1", B: two}
            metric:
              better: lower
            """)
        #expect(spec.ready == .port(6379))
        #expect(spec.script == "/bin/true")
        #expect(spec.readyTimeout == 5)
        #expect(spec.runTimeout == 20.5)
        #expect(spec.replicas == 2)
        #expect(spec.environment == ["A": "1", "B": "two"])
        #expect(spec.metricDirection == .lower)
    }

    @Test func misspelledKeyNamesKeyLineAndSuggestion() {
        let e = error("""
            name: redis
            workload: {name: w, kind: health}
            command: [redis-server]
            replicaz: 3
            """)
        #expect(e?.line == 4)
        #expect(e?.message.contains("unknown key `replicaz`") == true)
        #expect(e?.message.contains("did you mean `replicas`") == true)
        #expect(e?.description.hasPrefix("app.yaml:4: ") == true)
    }

    @Test func misspelledNestedKeyIsFound() {
        let e = error("""
            name: redis
            workload:
              name: w
              knd: health
            command: [redis-server]
            """)
        #expect(e?.line == 4)
        #expect(e?.message.contains("`knd` in workload") == true)
    }

    @Test func missingFieldsAreNamed() {
        #expect(error("workload: {name: w, kind: health}\ncommand: [x]")?.message.contains("`name`") == true)
        #expect(error("name: a\ncommand: [x]")?.message.contains("`workload`") == true)
        #expect(error("name: a\nworkload: {name: w, kind: health}")?.message.contains("`command`") == true)
        let kind = error("name: a\nworkload:\n  name: w\ncommand: [x]")
        #expect(kind?.message.contains("`workload.kind`") == true)
        #expect(kind?.line == 3)
    }

    @Test func badValuesNameTheFieldAndLine() {
        let kind = error("name: a\nworkload: {name: w, kind: fast}\ncommand: [x]")
        #expect(kind?.message.contains("health, benchmark or suite") == true)
        #expect(kind?.line == 2)
        let replicas = error("name: a\nworkload: {name: w, kind: health}\ncommand: [x]\nreplicas: zero")
        #expect(replicas?.line == 4)
        #expect(replicas?.message.contains("`replicas`") == true)
        let port = error("name: a\nworkload: {name: w, kind: health}\ncommand: [x]\nscript: /bin/true\nready: {port: 70000}")
        #expect(port?.message.contains("`ready.port`") == true)
        #expect(port?.line == 5)
        let both = error("name: a\nworkload: {name: w, kind: health}\ncommand: [x]\nscript: /bin/true\nready: {port: 1, delay: 2}")
        #expect(both?.message.contains("either") == true)
        let readyAlone = error("name: a\nworkload: {name: w, kind: health}\ncommand: [x]\nready: {delay: 1}")
        #expect(readyAlone?.message.contains("only makes sense with `script`") == true)
    }

    @Test func scriptMustExistAndBeExecutable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spec-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let script = "\(folder)/check.sh"
        _ = FileManager.default.createFile(atPath: script, contents: Data("#!/bin/sh\nexit 0\n".utf8),
                                       attributes: [.posixPermissions: 0o644])
        let text = "name: a\nworkload: {name: w, kind: health}\ncommand: [x]\nscript: check.sh\n"
        do {
            _ = try AppSpec.parse(text: text, file: "a.yaml", directory: folder)
            Issue.record("a non-executable script was accepted")
        } catch {
            #expect(error.line == 4)
            #expect(error.message.contains("not executable"))
            #expect(error.message.contains("chmod +x \(script)"))
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        let spec = try AppSpec.parse(text: text, file: "a.yaml", directory: folder)
        #expect(spec.script == script)
        let missing = error("name: a\nworkload: {name: w, kind: health}\ncommand: [x]\nscript: nope.sh\n")
        #expect(missing?.message.contains("does not exist") == true)
    }

    @Test func invalidYAMLReportsALine() {
        let e = error("name: a\nworkload: {name: w, kind: health\ncommand: [x]\n")
        #expect(e != nil)
        #expect(e?.message.contains("not valid YAML") == true)
        #expect(e?.line != nil)
    }

    @Test func relativeCommandPathsResolveAgainstTheSpecFolder() throws {
        let spec = try AppSpec.parse(text: "name: a\nworkload: {name: suite, kind: suite}\ncommand: [./run.sh]\ntargets: [sqlite3]",
                                     file: "a.yaml", directory: "/srv/specs")
        #expect(spec.command == ["/srv/specs/run.sh"])
        #expect(!spec.targetIsCommand)
    }

    @Test func theExamplesParse() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
        let specs = (FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".yaml") }
        #expect(!specs.isEmpty)
        for file in specs {
            let spec = try AppSpec.load(path: root.appendingPathComponent(file).path)
            #expect(!spec.command.isEmpty, "\(file)")
        }
    }
}
