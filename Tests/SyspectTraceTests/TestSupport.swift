import Foundation
import SyspectCore
import SyspectTrace
import Testing

/// Paths of the executables the build put next to the test bundle.
enum Products {
    static let directory: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return (exe as NSString).deletingLastPathComponent
    }()

    /// The fixture program (Sources/syspect-fixture).
    static var fixture: String { path("syspect-fixture") }
    /// The syspect CLI.
    static var syspect: String { path("syspect") }

    static func path(_ name: String) -> String { directory + "/" + name }
}

@Suite struct ProductsTests {
    @Test func fixtureAndCLIAreBuiltNextToTheTests() {
        for path in [Products.fixture, Products.syspect] {
            #expect(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: run `swift build` first")
        }
    }
}

extension TraceResult {
    /// Calls of `number` under `arch`, 0 when absent.
    func calls(_ number: Int, _ arch: Arch = .x86_64) -> Int {
        census.first { $0.arch == arch && $0.number == number }?.calls ?? 0
    }

    func entry(_ number: Int, _ arch: Arch = .x86_64) -> CensusEntry? {
        census.first { $0.arch == arch && $0.number == number }
    }
}

/// A unique marker for processes of one test, findable in /proc/*/cmdline.
func uniqueToken(_ label: String) -> String { "syspect-test-\(label)-\(UUID().uuidString.prefix(8))" }

/// Pids of live (non-zombie) processes whose command line contains `token`.
func survivors(_ token: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
              String(decoding: cmdline, as: UTF8.self).contains(token),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }
}

/// Waits up to `seconds` for `condition`.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// A fresh directory for one test's files (not under /tmp: sandboxed runs hide /tmp).
func scratchDirectory() throws -> String {
    let dir = Products.directory + "/syspect-trace-tests/" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// What only the fixture's double-forked daemon has in its command line (`sleep 100000 TOKEN`).
func daemonMarker(_ token: String) -> String { "100000\u{0}\(token)" }
