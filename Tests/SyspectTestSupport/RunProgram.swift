import Foundation

/// What a finished program left: its exit status and everything it wrote.
public struct ProgramOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `path` with `arguments` to completion and collects both output streams. Standard error is
/// drained on another thread while standard output is read, so a program that fills one pipe
/// while syspect's tests read the other cannot deadlock. `environment` nil: inherit.
public func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProgramOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stderrData = StderrBox()
    let drained = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        stderrData.data = err.fileHandleForReading.readDataToEndOfFile()
        drained.signal()
    }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    drained.wait()
    process.waitUntilExit()
    return ProgramOutput(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderrData.data, as: UTF8.self))
}

/// Written by the draining thread before the semaphore signals, read after the wait.
private final class StderrBox: @unchecked Sendable {
    var data = Data()
}
