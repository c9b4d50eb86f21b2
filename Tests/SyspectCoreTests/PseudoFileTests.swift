import Testing

@testable import SyspectCore

@Suite struct PseudoFileTests {
    private func slot(_ name: String) -> PseudoFiles.PathArgument? {
        PseudoFiles.pathArguments[SyscallTable.number(named: name)!]
    }

    @Test func pathArgumentsOfThePathCalls() {
        #expect(slot("open") == .init(path: 0, dirfd: nil))
        #expect(slot("openat") == .init(path: 1, dirfd: 0))
        #expect(slot("openat2") == .init(path: 1, dirfd: 0))
        #expect(slot("newfstatat") == .init(path: 1, dirfd: 0))
        #expect(slot("statx") == .init(path: 1, dirfd: 0))
        #expect(slot("faccessat2") == .init(path: 1, dirfd: 0))
        #expect(slot("readlink") == .init(path: 0, dirfd: nil))
        #expect(slot("execveat") == .init(path: 1, dirfd: 0))
        #expect(slot("read") == nil)
        #expect(PseudoFiles.pathArguments.count == 15)
    }

    @Test func dirfdIsTheLow32Bits() {
        let openat = SyscallTable.number(named: "openat")!
        #expect(PseudoFiles.dirfd(of: openat, arguments: [0xffff_ff9c, 0, 0]) == PseudoFiles.atFDCWD)
        #expect(PseudoFiles.dirfd(of: openat, arguments: [UInt64(bitPattern: -100), 0, 0]) == PseudoFiles.atFDCWD)
        #expect(PseudoFiles.dirfd(of: openat, arguments: [5, 0, 0]) == 5)
        #expect(PseudoFiles.dirfd(of: SyscallTable.number(named: "open")!, arguments: [5, 0]) == PseudoFiles.atFDCWD)
    }

    @Test func resolution() {
        #expect(PseudoFiles.resolve("stat", base: "/proc/self") == "/proc/self/stat")
        #expect(PseudoFiles.resolve("../sys/kernel", base: "/proc") == "/sys/kernel")
        #expect(PseudoFiles.resolve("./a//b/../c/", base: "/dev") == "/dev/a/c")
        #expect(PseudoFiles.resolve("/../../proc//meminfo", base: nil) == "/proc/meminfo")
        #expect(PseudoFiles.resolve("null", base: nil) == nil)
        #expect(PseudoFiles.resolve("null", base: "relative") == nil)
        #expect(PseudoFiles.resolve("/", base: nil) == "/")
    }

    @Test func normalisation() {
        #expect(PseudoFiles.normalise("/proc/1234/stat") == "/proc/<pid>/stat")
        #expect(PseudoFiles.normalise("/proc/1234/task/99/comm") == "/proc/<pid>/task/<tid>/comm")
        #expect(PseudoFiles.normalise("/proc/self/task/99/stat") == "/proc/self/task/<tid>/stat")
        #expect(PseudoFiles.normalise("/proc/self/status") == "/proc/self/status")
        #expect(PseudoFiles.normalise("/proc/thread-self/comm") == "/proc/thread-self/comm")
        #expect(PseudoFiles.normalise("/proc/1234") == "/proc/<pid>")
        #expect(PseudoFiles.normalise("/proc/sys/kernel/pid_max") == "/proc/sys/kernel/pid_max")
        #expect(PseudoFiles.normalise("/proc/12a/stat") == "/proc/12a/stat")
        #expect(PseudoFiles.normalise("/sys/devices/system/cpu/cpu0/online") == "/sys/devices/system/cpu/cpu0/online")
        #expect(PseudoFiles.normalise("/dev/pts/3") == "/dev/pts/3")
    }

    @Test func normalisedPathCombinesBoth() {
        #expect(PseudoFiles.normalisedPath("1234/stat", base: "/proc") == "/proc/<pid>/stat")
        #expect(PseudoFiles.normalisedPath("../1234/task/7/./stat", base: "/proc/self") == "/proc/<pid>/task/<tid>/stat")
        #expect(PseudoFiles.normalisedPath("", base: "/proc") == nil, "AT_EMPTY_PATH names the fd")
        #expect(PseudoFiles.normalisedPath("x", base: nil) == nil)
    }

    @Test func onlyProcSysAndDevArePseudo() {
        for path in ["/proc", "/proc/<pid>/stat", "/sys/kernel/mm", "/dev/null", "/dev"] {
            #expect(PseudoFiles.isPseudo(path), "\(path)")
        }
        for path in ["/", "/process", "/system", "/devices", "/etc/passwd", "/usr/lib/sys/x", "/tmp/proc"] {
            #expect(!PseudoFiles.isPseudo(path), "\(path)")
        }
    }
}
