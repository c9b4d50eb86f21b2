import ArgumentParser
import SyspectCore

/// `syspect syscalls`: print the x86-64 system call table syspect knows.
struct Syscalls: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the x86-64 system calls syspect knows (number and name).")

    @Argument(help: "Names or numbers to look up; all when none are given.")
    var lookup: [String] = []

    func run() throws {
        let numbers: [Int]
        if lookup.isEmpty {
            numbers = SyscallTable.x86_64Numbers
        } else {
            numbers = try lookup.map { item in
                if let n = Int(item), SyscallTable.name(of: n) != nil { return n }
                if let n = SyscallTable.number(named: item) { return n }
                throw ValidationError("unknown system call '\(item)': give an x86-64 name or number (see `syspect syscalls`)")
            }
        }
        for n in numbers { print("\(n)\t\(SyscallTable.name(of: n)!)") }
    }
}
