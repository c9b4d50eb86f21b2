import Testing

@testable import SyspectCore

private func number(_ name: String) -> Int { SyscallTable.number(named: name)! }

private func names(_ syscall: String, _ arguments: [UInt64], memory: UInt64? = nil) -> [String] {
    FeatureDecoder.decode(syscall: number(syscall), arguments: arguments, memory: memory).map(\.name)
}

private func args(_ values: UInt64...) -> [UInt64] { values + [UInt64](repeating: 0, count: 6 - values.count) }

@Suite struct FeatureDecoderTests {
    @Test func ioctlAboveIntMaxIsExact() throws {
        let features = FeatureDecoder.decode(syscall: 16, arguments: args(3, 0x8004_5430))
        let feature = try #require(features.first)
        #expect(features.count == 1)
        #expect(feature.key == "ioctl:request=TIOCGPTN")
        #expect(feature.match == .arguments([ArgumentCondition(index: 1, value: 0x8004_5430, mask: 0xffff_ffff)]))
        // musl passes the request as an int: sign-extended, the kernel reads the low 32 bits.
        #expect(names("ioctl", args(3, 0xffff_ffff_8004_5430)) == ["TIOCGPTN"])
        #expect(feature.match.holds(args(3, 0xffff_ffff_8004_5430), memory: nil))
        #expect(!feature.match.holds(args(3, 0x5430), memory: nil))
        #expect(names("ioctl", args(1, 0x5401)) == ["TCGETS"])
        #expect(names("ioctl", args(1, 0x1234_5678)) == ["0x12345678"])
    }

    @Test func valueArguments() {
        #expect(names("fcntl", args(3, 4, 0x800)) == ["F_SETFL"])
        #expect(names("fcntl", args(3, 1030)) == ["F_DUPFD_CLOEXEC"])
        #expect(names("prctl", args(15)) == ["PR_SET_NAME"])
        #expect(names("arch_prctl", args(0x1002, 0x7f00_0000_0000)) == ["ARCH_SET_FS"])
        #expect(names("prlimit64", args(0, 7, 0, 0x7ffc_0000)) == ["RLIMIT_NOFILE"])
        #expect(names("getrlimit", args(3)) == ["RLIMIT_STACK"])
        #expect(names("setrlimit", args(4)) == ["RLIMIT_CORE"])
        #expect(names("madvise", args(0x1000, 4096, 4)) == ["MADV_DONTNEED"])
    }

    @Test func mmapProtAndFlagsBitByBit() {
        let anonymous = FeatureDecoder.decode(syscall: 9, arguments: args(0, 4096, 0x3, 0x22, UInt64.max, 0))
        #expect(anonymous.map(\.key) == ["mmap:prot=PROT_READ", "mmap:prot=PROT_WRITE", "mmap:flags=MAP_PRIVATE",
                                         "mmap:flags=MAP_ANONYMOUS"])
        #expect(anonymous[1].match == .arguments([ArgumentCondition(index: 2, value: 2, mask: 2)]))
        #expect(anonymous[2].match == .arguments([ArgumentCondition(index: 3, value: 2, mask: 0xf)]))
        #expect(names("mmap", args(0, 4096, 0, 0x22)) == ["PROT_NONE", "MAP_PRIVATE", "MAP_ANONYMOUS"])
        // MAP_HUGETLB | MAP_HUGE_2MB: the size field is a value of its own.
        #expect(names("mmap", args(0, 1 << 21, 3, 0x5404_0022)) == ["PROT_READ", "PROT_WRITE", "MAP_PRIVATE",
                                                                     "MAP_ANONYMOUS", "MAP_HUGETLB", "MAP_HUGE_2MB"])
        #expect(names("mprotect", args(0x1000, 4096, 5)) == ["PROT_READ", "PROT_EXEC"])
    }

    @Test func futexOperationAndFlags() {
        #expect(names("futex", args(0x1000, 128 | 9)) == ["FUTEX_WAIT_BITSET", "FUTEX_PRIVATE_FLAG"])
        #expect(names("futex", args(0x1000, 128 | 256 | 9)) == ["FUTEX_WAIT_BITSET", "FUTEX_PRIVATE_FLAG",
                                                                  "FUTEX_CLOCK_REALTIME"])
        let wait = FeatureDecoder.decode(syscall: 202, arguments: args(0x1000, 0))
        #expect(wait.map(\.name) == ["FUTEX_WAIT"])
        #expect(wait[0].match == .arguments([ArgumentCondition(index: 1, value: 0, mask: 0xffff_fe7f)]))
    }

    @Test func socketDomainTypeAndFlags() {
        #expect(names("socket", args(2, 1 | 0x800 | 0x80000, 0)) == ["AF_INET", "SOCK_STREAM", "SOCK_NONBLOCK",
                                                                      "SOCK_CLOEXEC"])
        #expect(names("socket", args(1, 2)) == ["AF_UNIX", "SOCK_DGRAM"])
        let keys = FeatureDecoder.decode(syscall: 41, arguments: args(10, 1)).map(\.key)
        #expect(keys == ["socket:domain=AF_INET6", "socket:type=SOCK_STREAM"])
    }

    @Test func socketOptionsByLevel() throws {
        let reuse = try #require(FeatureDecoder.decode(syscall: 54, arguments: args(3, 1, 2, 0x7ffc, 4)).first)
        #expect(reuse.key == "setsockopt:level/optname=SOL_SOCKET/SO_REUSEADDR")
        #expect(reuse.match == .arguments([ArgumentCondition(index: 1, value: 1, mask: 0xffff_ffff),
                                           ArgumentCondition(index: 2, value: 2, mask: 0xffff_ffff)]))
        #expect(names("setsockopt", args(3, 6, 1)) == ["SOL_TCP/TCP_NODELAY"])
        #expect(names("getsockopt", args(3, 41, 26)) == ["SOL_IPV6/IPV6_V6ONLY"])
        #expect(names("getsockopt", args(3, 0, 1)) == ["SOL_IP/IP_TOS"])
        #expect(names("setsockopt", args(3, 0x107, 1)) == ["SOL_PACKET/0x1"])
        #expect(names("setsockopt", args(3, 0x9999, 0x77)) == ["0x9999/0x77"])
    }

    @Test func cloneFlagsAndExitSignal() {
        // glibc's pthread_create: CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID.
        #expect(names("clone", args(0x3d0f00)) == ["CLONE_VM", "CLONE_FS", "CLONE_FILES", "CLONE_SIGHAND",
                                                   "CLONE_THREAD", "CLONE_SYSVSEM", "CLONE_SETTLS",
                                                   "CLONE_PARENT_SETTID", "CLONE_CHILD_CLEARTID"])
        // glibc's fork: CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD.
        let fork = FeatureDecoder.decode(syscall: 56, arguments: args(0x0120_0011))
        #expect(fork.map(\.key) == ["clone:flags=CLONE_CHILD_CLEARTID", "clone:flags=CLONE_CHILD_SETTID",
                                    "clone:exit_signal=SIGCHLD"])
        #expect(fork[2].match == .arguments([ArgumentCondition(index: 0, value: 17, mask: 0xff)]))
        // 0x80 in clone's flags is part of the signal byte, not CLONE_NEWTIME.
        #expect(names("clone", args(0x80)) == ["0x80"])
    }

    @Test func clone3FlagsLiveInMemory() throws {
        #expect(FeatureDecoder.memoryOperand(of: 435)! == (pointer: 0, offset: 0))
        #expect(names("clone3", args(0x7ffc_0000, 88)).isEmpty, "memory not read: nothing decoded")
        let features = FeatureDecoder.decode(syscall: 435, arguments: args(0x7ffc_0000, 88), memory: 0x100 | 0x1000)
        #expect(features.map(\.key) == ["clone3:flags=CLONE_VM", "clone3:flags=CLONE_PIDFD"])
        #expect(features[1].match == .memory(pointer: 0, offset: 0, mask: 0x1000, value: 0x1000))
        #expect(!features[1].match.inKernel)
        #expect(names("clone3", args(0), memory: 0x1_0000_0080) == ["CLONE_NEWTIME", "CLONE_CLEAR_SIGHAND"])
    }

    @Test func openFlagsAndAccessMode() {
        #expect(names("openat", args(UInt64(bitPattern: -100), 0x1000, 0x80000)) == ["O_RDONLY", "O_CLOEXEC"])
        #expect(names("openat", args(3, 0x1000, 0x641, 0o644)) == ["O_WRONLY", "O_CREAT", "O_TRUNC", "O_APPEND"])
        // O_SYNC is __O_SYNC | O_DSYNC: two bits.
        #expect(names("open", args(0x1000, 0x0010_1002)) == ["O_RDWR", "O_DSYNC", "__O_SYNC"])
        #expect(FeatureDecoder.memoryOperand(of: 437)! == (pointer: 2, offset: 0))
        #expect(names("openat2", args(3, 0x1000, 0x2000, 24), memory: 0x10000) == ["O_RDONLY", "O_DIRECTORY"])
    }

    @Test func otherSyscallsHaveNoSubFeatures() {
        #expect(FeatureDecoder.decode(syscall: 0, arguments: args(3, 0x1000, 10)).isEmpty)
        #expect(!FeatureDecoder.decodes(0))
        #expect(FeatureDecoder.decodes(16))
        #expect(FeatureDecoder.syscalls.map { SyscallTable.name(of: $0)! }.sorted() == [
            "arch_prctl", "clone", "clone3", "fcntl", "futex", "getrlimit", "getsockopt", "ioctl", "madvise", "mmap",
            "mprotect", "open", "openat", "openat2", "prctl", "prlimit64", "setrlimit", "setsockopt", "socket",
        ])
    }

    @Test func keysRoundTrip() {
        for syscall in FeatureDecoder.syscalls {
            let all = SubFeature.all(for: syscall)
            #expect(!all.isEmpty)
            #expect(Set(all.map(\.key)).count == all.count, "\(SyscallTable.displayName(of: syscall)): duplicate keys")
            for feature in all { #expect(SubFeature(key: feature.key) == feature, "\(feature.key)") }
        }
        #expect(SubFeature(key: "ioctl:request=0x12345678")?.match
                == .arguments([ArgumentCondition(index: 1, value: 0x1234_5678, mask: 0xffff_ffff)]))
        #expect(SubFeature(key: "setsockopt:level/optname=SOL_PACKET/0x1") != nil)
        #expect(SubFeature(key: "fcntl:cmd=F_NOPE") == nil)
        #expect(SubFeature(key: "read:fd=3") == nil)
        #expect(SubFeature(key: "mmap:prot=0x3") == nil, "a flag sub-feature is one bit")
    }

    /// The contract with the explore half: a decoded feature's match holds on the call, and a
    /// named feature the call does not use does not hold. Random arguments biased to table values.
    @Test func matchIsExactlyTheSelectingCondition() {
        var rng = SplitMix(seed: 0x5eed)
        let pool: [UInt64] = ConstantTable.allCases.flatMap { FeatureConstants.entries($0).map(\.value) }
        func word() -> UInt64 {
            let high: UInt64 = rng.next() % 4 == 0 ? 0xffff_ffff_0000_0000 : 0
            switch rng.next() % 4 {
            case 0: return pool[Int(rng.next() % UInt64(pool.count))] | high
            case 1: return pool[Int(rng.next() % UInt64(pool.count))] | pool[Int(rng.next() % UInt64(pool.count))]
            case 2: return rng.next() % 64
            default: return rng.next()
            }
        }
        for syscall in FeatureDecoder.syscalls {
            let all = SubFeature.all(for: syscall)
            for _ in 0..<400 {
                let arguments = (0..<6).map { _ in word() }
                let memory = word()
                let decoded = FeatureDecoder.decode(syscall: syscall, arguments: arguments, memory: memory)
                for feature in decoded {
                    #expect(feature.match.holds(arguments, memory: memory), "\(feature.key) \(arguments)")
                }
                let named = Set(all.filter { $0.match.holds(arguments, memory: memory) })
                #expect(named == Set(decoded).intersection(all), "\(SyscallTable.displayName(of: syscall)) \(arguments)")
            }
        }
    }
}

/// A small deterministic generator (tests must not depend on the system's randomness).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
