// syspect-fuzz: the parsers of user files under hostile input (docs/fuzzing.md).
//
// Built normally (`swift build`), it replays a corpus and runs the built-in seeded mutator
// (CI: scripts/fuzz-smoke). Built with `-sanitize=fuzzer -DSYSPECT_LIBFUZZER`
// (benchmarks/fuzz.sh), it is a libFuzzer target; SYSPECT_FUZZ_TARGET selects the parser.
import Foundation
import SyspectFuzz

#if SYSPECT_LIBFUZZER

let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["SYSPECT_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let known = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("syspect-fuzz: set SYSPECT_FUZZ_TARGET to one of \(known)\n".utf8))
        exit(64)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Data(bytes: $0, count: size) } ?? Data()
    do {
        try selected.check(input)
    } catch {
        fatalError("\(selected.rawValue): \(error)")
    }
    return 0
}

/// libFuzzer's driver (in the runtime `-sanitize=fuzzer` links).
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main`: hand it to libFuzzer's driver.
@_cdecl("syspect_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    _ = selected
    return runDriver(&count, &arguments) { data, size in fuzzOne(data, size) }
}

#else

/// The input being parsed, written out by the crash handler (async-signal-safe: write(2) only).
nonisolated(unsafe) var currentInput = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 20)
nonisolated(unsafe) var currentLength = 0
nonisolated(unsafe) var crashPath = UnsafeMutablePointer<CChar>.allocate(capacity: 4096)
nonisolated(unsafe) var previousActions: UnsafeMutablePointer<sigaction> = {
    let actions = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
    actions.initialize(repeating: sigaction(), count: 65)
    return actions
}()

@main
struct FuzzMain {
    static let usage = """
        usage: syspect-fuzz list
               syspect-fuzz replay TARGET [--show] PATH...
               syspect-fuzz mutate TARGET [--seconds S] [--runs N] [--seed N] [--artifacts DIR] PATH...
        PATH: corpus files or folders (Tests/Fuzz/corpus/TARGET). Exit 0: no crash, no rule broken;
        1: a rejection broke a rule (the input is saved in --artifacts); 64: usage.
        """

    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let command = arguments.first else { usageError("no command") }
        arguments.removeFirst()
        if command == "list" {
            FuzzTarget.allCases.forEach { print($0.rawValue) }
            return
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            usageError("unknown target '\(arguments.first ?? "")'; one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        arguments.removeFirst()
        var seconds: Double?
        var runs: Int?
        var seed = UInt64(0x5EED)
        var artifacts = "."
        var show = false
        var paths: [String] = []
        while !arguments.isEmpty {
            let argument = arguments.removeFirst()
            func value() -> String {
                guard !arguments.isEmpty else { usageError("\(argument) needs a value") }
                return arguments.removeFirst()
            }
            switch argument {
            case "--seconds": seconds = parsed(Double(value()), "--seconds takes a number")
            case "--runs": runs = parsed(Int(value()), "--runs takes a whole number")
            case "--seed": seed = parsed(UInt64(value()), "--seed takes a whole number")
            case "--artifacts": artifacts = value()
            case "--show": show = true
            default: paths.append(argument)
            }
        }
        guard !paths.isEmpty else { usageError("give at least one corpus folder or file") }
        let files: [String]
        let seeds: [[UInt8]]
        do {
            files = try Corpus.files(paths)
            seeds = try Corpus.load(files)
        } catch {
            usageError("\(error)")
        }
        switch command {
        case "replay":
            exit(replay(target, files: files, seeds: seeds, show: show))
        case "mutate":
            exit(mutate(target, seeds: seeds, seconds: seconds ?? (runs == nil ? 10 : .infinity),
                        runs: runs ?? .max, seed: seed, artifacts: artifacts))
        default:
            usageError("unknown command '\(command)'")
        }
    }

    /// Checks every file once; `show` prints each rejection message.
    static func replay(_ target: FuzzTarget, files: [String], seeds: [[UInt8]], show: Bool) -> Int32 {
        var broken = 0, rejected = 0
        for (file, bytes) in zip(files, seeds) {
            do {
                if let message = try run(target, bytes) {
                    rejected += 1
                    if show { print("\(file): rejected: \(message)") }
                }
            } catch {
                broken += 1
                print("\(file): \(error)")
            }
        }
        print("\(target.rawValue): replayed \(files.count) inputs, \(rejected) rejected, \(broken) broke a rule, 0 crashes")
        return broken == 0 ? 0 : 1
    }

    static func mutate(_ target: FuzzTarget, seeds: [[UInt8]], seconds: Double, runs: Int, seed: UInt64, artifacts: String) -> Int32 {
        var mutator = Mutator(seeds: seeds, tokens: Mutator.tokens(for: target), seed: seed, maxLength: 65_536)
        installCrashHandler(path: "\(artifacts)/crash-\(target.rawValue)-seed\(seed)")
        let start = Date()
        var count = 0, rejected = 0
        var slowest = 0.0
        while count < runs && Date().timeIntervalSince(start) < seconds {
            let input = mutator.input()
            let began = Date()
            do {
                if try run(target, input) != nil { rejected += 1 }
            } catch {
                let file = "\(artifacts)/violation-\(target.rawValue)-seed\(seed)-\(count)"
                FileManager.default.createFile(atPath: file, contents: Data(input))
                print("\(target.rawValue): run \(count): \(error) (input saved as \(file))")
                return 1
            }
            slowest = max(slowest, Date().timeIntervalSince(began))
            count += 1
        }
        let elapsed = Date().timeIntervalSince(start)
        print(String(format: "%@: runs %d, %.0f exec/s over %.1f s, rejected %d, slowest input %.3f s, rule violations 0, crashes 0 (seed %llu)",
                     target.rawValue, count, Double(count) / max(elapsed, 1e-9), elapsed, rejected, slowest, seed))
        return 0
    }

    /// Keeps `bytes` where the crash handler finds it, then checks it.
    static func run(_ target: FuzzTarget, _ bytes: [UInt8]) throws(RuleViolation) -> String? {
        currentLength = min(bytes.count, currentInput.count)
        _ = currentInput.update(fromContentsOf: bytes.prefix(currentLength))
        return try target.check(Data(bytes))
    }

    /// A trap (Swift runtime error) or a fault saves the input being parsed, then dies as before.
    static func installCrashHandler(path: String) {
        _ = path.withCString { strncpy(crashPath, $0, 4095) }
        crashPath[4095] = 0
        for signal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                let fd = open(crashPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                if fd >= 0 {
                    _ = write(fd, currentInput.baseAddress, currentLength)
                    close(fd)
                }
                let note: StaticString = "syspect-fuzz: crashed; the input is saved as crash-<target>-seed<N> in --artifacts\n"
                _ = write(2, note.utf8Start, note.utf8CodeUnitCount)
                // The previous handler (Swift's backtracer) reports the crash.
                sigaction(signal, previousActions + Int(signal), nil)
                raise(signal)
            }
            sigaction(signal, &action, previousActions + Int(signal))
        }
    }

    static func parsed<T>(_ value: T?, _ message: String) -> T {
        guard let value else { usageError(message) }
        return value
    }

    static func usageError(_ message: String) -> Never {
        FileHandle.standardError.write(Data("syspect-fuzz: \(message)\n\(usage)\n".utf8))
        exit(64)
    }
}

#endif
