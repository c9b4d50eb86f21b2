import Foundation
import SyspectTestSupport
import SyspectCore
import SyspectPlan
import Testing
@testable import SyspectReport

/// Opens a real report (bundled loupedb data, the paper's seven Figure-4 applications, plan
/// curves for OSv) in headless Chromium, checks the DOM Chromium built from it, and keeps a
/// screenshot in artifacts/report/ (git-ignored). CI installs Debian's `chromium` (scripts/setup).
@Suite("HTML report in headless Chromium", .serialized)
struct BrowserTests {
    static let chromium = which("chromium", "chromium-browser", "google-chrome")
    static let apps = ["redis", "nginx", "memcached", "sqlite", "haproxy", "lighttpd", "weborf"]

    /// The report under test and the number of runs it draws.
    static func writeReport() throws -> (path: String, runs: Int) {
        let dataset = BundledLoupedb.dataset
        let known = Set(dataset.measurements.map(\.app))
        let apps = Self.apps.filter(known.contains)
        #expect(apps.count >= 5, "bundled data lacks most of \(Self.apps)")
        let targets = try Planner.targets(from: dataset.measurements, workload: .all, apps: apps)
        let runs = ReportBuilder.runs(dataset.measurements.filter { apps.contains($0.app) })
        let osv = try #require(dataset.osSupport["Osv"])
        let input = ReportInput(
            title: "syspect report (browser test)", sourceNote: BundledLoupedb.attribution, runs: runs,
            importanceAppCount: targets.count, importance: APIImportance.compute(targets),
            plan: try ReportBuilder.planFigure(targets: targets, os: osv, workload: .all),
            impact: [ImpactRow(app: "nginx", syscall: 1, mode: .fake, performance: 0.15, fileDescriptors: nil, memory: nil,
                               note: "illustrative row: the paper's Table 2 nginx/write")])
        let path = try artifactsFolder("report") + "/report.html"
        try HTMLReport.render(input).write(toFile: path, atomically: true, encoding: .utf8)
        return (path, runs.count)
    }

    static let chromiumFlags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                                "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]

    @Test("Chromium parses the report: one grid per run, a box per syscall, legend, no errors",
          .enabled(if: chromium != nil, "chromium is not installed here (scripts/setup installs it; CI runs this)"))
    func domInChromium() throws {
        let (path, runCount) = try Self.writeReport()
        let profile = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let result = try TestSupport.run(Self.chromium!, Self.chromiumFlags + ["--user-data-dir=\(profile)", "--dump-dom", "file://\(path)"])
        #expect(result.status == 0, "chromium failed: \(result.stderr.suffix(2000))")
        let dom = result.stdout
        let grids = dom.components(separatedBy: "<svg class=\"grid\"").dropFirst()
        #expect(grids.count == runCount)
        for grid in grids {
            let body = grid.components(separatedBy: "</svg>")[0]
            #expect(TestSupport.count("<rect class=\"box ", in: body) == SyscallTable.x86_64Numbers.count)
        }
        let legend = dom.components(separatedBy: "<section id=\"legend\"").dropFirst().first?.components(separatedBy: "</section>").first ?? ""
        // Every box status, the static-only box, and the two static bars (loupedb's, syspect's).
        #expect(TestSupport.count("<li>", in: legend) == BoxStatus.allCases.count + 3)
        for status in BoxStatus.allCases { #expect(legend.contains(status.label)) }
        #expect(legend.contains("static analysis (upper bound) from loupedb") && legend.contains("static analysis by syspect"))
        for id in ["grids", "bars", "importance", "plan", "impact"] {
            #expect(dom.contains("<section id=\"\(id)\""), "section \(id) missing from the DOM")
        }
        #expect(TestSupport.count("<polyline class=\"series c-", in: dom) == 6)  // 2 importance + 4 plan curves
        for marker in ["Uncaught", "CONSOLE", "SyntaxError", "Failed to load"] {
            #expect(!result.stderr.contains(marker), "chromium reported \(marker): \(result.stderr.suffix(2000))")
        }
    }

    @Test("a screenshot shows the verdict colours (kept as artifacts/report/report.png)",
          .enabled(if: chromium != nil, "chromium is not installed here (scripts/setup installs it; CI runs this)"))
    func screenshot() throws {
        let (path, _) = try Self.writeReport()
        let png = try artifactsFolder("report") + "/report.png"
        try? FileManager.default.removeItem(atPath: png)
        let profile = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let result = try TestSupport.run(Self.chromium!, Self.chromiumFlags + [
            "--user-data-dir=\(profile)", "--window-size=1280,1100", "--screenshot=\(png)", "file://\(path)",
        ])
        #expect(result.status == 0, "chromium failed: \(result.stderr.suffix(2000))")
        let data = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // Count pixels of each verdict colour with a small PNG decoder (Python standard library).
        let python = try #require(which("python3"), "python3 is needed to read the screenshot")
        let counted = try TestSupport.run(python, ["-c", Self.pixelCounter, png])
        #expect(counted.status == 0, "\(counted.stderr)")
        let counts = Dictionary(uniqueKeysWithValues: counted.stdout.split(separator: "\n").compactMap { line -> (String, Int)? in
            let parts = line.split(separator: " ")
            return parts.count == 2 ? (String(parts[0]), Int(parts[1]) ?? 0) : nil
        })
        #expect(counts["size"] == 1280 * 1100)
        for colour in ["D55E00", "0072B2", "E69F00", "009E73", "EEEEEE"] {
            #expect((counts[colour] ?? 0) > 200, "too few \(colour) pixels: \(counts)")
        }
    }

    /// Prints "size N" and, per report colour, "RRGGBB count" for an 8-bit RGB(A) PNG.
    static let pixelCounter = #"""
    import sys, zlib, struct
    data = open(sys.argv[1], 'rb').read()
    pos, idat, width, height, ctype = 8, b'', 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos+8]); body = data[pos+8:pos+8+length]; pos += 12 + length
        if kind == b'IHDR': width, height, depth, ctype = struct.unpack('>IIBB', body[:10]); assert depth == 8
        elif kind == b'IDAT': idat += body
    bpp = {2: 3, 6: 4}[ctype]; raw = zlib.decompress(idat); stride = width * bpp
    prev = bytearray(stride); wanted = {'D55E00', '0072B2', 'E69F00', '009E73', 'EEEEEE', 'CC79A7'}; counts = dict.fromkeys(wanted, 0)
    for y in range(height):
        f = raw[y*(stride+1)]; line = bytearray(raw[y*(stride+1)+1:(y+1)*(stride+1)])
        for i in range(stride):
            a = line[i-bpp] if i >= bpp else 0; b = prev[i]; c = prev[i-bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p-a), abs(p-b), abs(p-c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp):
            key = '%02X%02X%02X' % (line[x], line[x+1], line[x+2])
            if key in counts: counts[key] += 1
        prev = line
    print('size', width * height)
    for k, v in counts.items(): print(k, v)
    """#
}
