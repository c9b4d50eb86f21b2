import ArgumentParser
import Foundation
import SyspectCore
import SyspectExplore

/// `explore --debian PACKAGE [--binaries LIST]` and a `debian:` spec (docs/suites.md).
extension ExploreCommand {
    func validateSuiteOptions() throws {
        switch (spec, debian) {
        case (nil, nil): throw ValidationError("give a spec file, or --debian PACKAGE")
        case (.some, .some): throw ValidationError("give either a spec file or --debian PACKAGE, not both")
        default: break
        }
        if binaries != nil && debian == nil {
            throw ValidationError("--binaries goes with --debian (a spec file names its targets itself)")
        }
    }

    /// The spec to explore: the file, or `--debian`'s; a Debian package's prepared (fetched,
    /// built, its targets found). Exits 2 on a bad spec, 3 when the package cannot be prepared.
    func loadSpec() -> AppSpec {
        var appSpec: AppSpec
        if let debian {
            let list = binaries.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            let source = DebianSource(package: debian, binaries: list)
            do {
                appSpec = try AppSpec.parse(text: source.specText, file: "--debian", directory: FileManager.default.currentDirectoryPath)
            } catch {
                fail(error.description, status: Status.badSpec)
            }
        } else {
            do {
                appSpec = try AppSpec.load(path: spec!)
            } catch {
                fail(error.description, status: Status.badSpec)
            }
        }
        guard appSpec.debian != nil else { return appSpec }
        let suite = DebianSuite(workDirectory: workDir ?? ExploreOptions.defaultWorkDirectory()) { line in
            FileHandle.standardError.write(Data("syspect explore: \(line)\n".utf8))
        }
        do {
            return try suite.prepare(appSpec)
        } catch {
            fail(error.description, status: Status.badWorkload)
        }
    }

    /// The test cases the probes were judged by (suites with result files).
    static func printSuiteCriterion(_ criterion: SuiteCriterion?) {
        guard let criterion else { return }
        var line = "test cases: \(criterion.mustPass.count) must pass in every probe"
        if !criterion.ignored.isEmpty { line += ", \(criterion.ignored.count) failed or skipped in the baseline (ignored)" }
        if !criterion.flaky.isEmpty {
            line += ", \(criterion.flaky.count) flaky (passed in some baseline runs only, left out): "
                + criterion.flaky.sorted().prefix(10).joined(separator: ", ") + (criterion.flaky.count > 10 ? ", …" : "")
        }
        print(line)
    }
}

/// `syspect show`'s section of a suite: per call, the test cases that broke (docs/suites.md).
enum SuiteText {
    static func section(_ probes: [ProbeRecord]) -> String {
        let breakage = SuiteBreakage(probes: probes)
        guard !breakage.entries.isEmpty else { return "" }
        var out = "\ntest cases broken per call (probes of that call alone):\n"
        for entry in breakage.entries {
            let shown = entry.cases.prefix(8).joined(separator: ", ") + (entry.cases.count > 8 ? ", … (\(entry.cases.count) in all)" : "")
            out += "  \(SyscallTable.displayName(of: entry.number).padding(toLength: 22, withPad: " ", startingAt: 0)) \(entry.mode.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \(shown)\n"
        }
        return out
    }
}
