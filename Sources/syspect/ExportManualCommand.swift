import ArgumentParser
import Foundation
import SyspectReport

/// `syspect export manual`: the man page, generated from the command definitions themselves.
struct ExportManualCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manual",
        abstract: "Write the syspect(1) man page, generated from the command-line definitions.",
        discussion: "Install it with scripts/install-extras, or: syspect export manual -o /usr/local/share/man/man1/syspect.1")

    @Option(name: [.short, .long], help: ArgumentHelp("The roff file to write (`-`: standard output).", valueName: "file"))
    var output: String = "-"

    @Option(help: ArgumentHelp("Date for the page footer (default: today, UTC).", valueName: "YYYY-MM-DD"))
    var date: String?

    func run() throws {
        // argument-parser describes the whole command tree as JSON; ask this very executable.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["--experimental-dump-help"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let json = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let info: ManualPage.ToolInfo
        do { info = try ManualPage.toolInfo(json: json) } catch {
            FileHandle.standardError.write(Data("syspect export manual: cannot read the command definitions (--experimental-dump-help): \(error)\n".utf8))
            throw ExitCode(1)
        }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let page = ManualPage.render(info, date: date ?? formatter.string(from: Date()), version: Syspect.configuration.version)
        try DataOptions.reportingFailures(command: "export manual") { try writeOutput(Data(page.utf8), to: output) }
    }
}
