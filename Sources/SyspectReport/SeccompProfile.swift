import Foundation
import SyspectCore
import SyspectPlan

/// An OCI runtime / Docker seccomp profile (the `linux.seccomp` object of the OCI runtime
/// spec, also accepted by `docker run --security-opt seccomp=FILE`), built from what an
/// application needed under its workloads.
public struct SeccompProfile: Codable, Sendable, Hashable {
    /// Action for every call no rule names: `SCMP_ACT_ERRNO`.
    public var defaultAction: String
    /// errno returned by `defaultAction`: ENOSYS, so libc fallbacks (clone3 → clone, …) behave
    /// as on an older kernel instead of failing with EPERM.
    public var defaultErrnoRet: Int?
    /// `SCMP_ARCH_X86_64`: the measurements cover x86-64 calls only, so i386 (`int $0x80`)
    /// and x32 calls stay denied.
    public var architectures: [String]
    public var syscalls: [Rule]

    /// One group of calls sharing an action.
    public struct Rule: Codable, Sendable, Hashable {
        public var names: [String]
        /// `SCMP_ACT_ALLOW`, or `SCMP_ACT_ERRNO` with `errnoRet`.
        public var action: String
        public var errnoRet: Int?
        /// Docker's profiles carry a comment per rule; OCI runtimes ignore it.
        public var comment: String?

        public init(names: [String], action: String, errnoRet: Int? = nil, comment: String? = nil) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.comment = comment
        }
    }

    /// What the profile does with calls the workload tolerates being stubbed or faked.
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Allow every call the workloads traced (required + used): the safe hardening profile.
        case allowTraced = "allow-traced"
        /// Allow only required calls; stub-only and either calls return -ENOSYS, fake-only calls
        /// return 0 without running. Tighter, but only as good as the workload's coverage.
        case minimal
    }

    public static let enosys = 38

    public init(defaultAction: String, defaultErrnoRet: Int?, architectures: [String], syscalls: [Rule]) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.syscalls = syscalls
    }

    /// The profile for the union of `runs` (one application's workloads).
    ///
    /// A call traced by any run is allowed (`allowTraced`). In `minimal` mode a call is denied
    /// only when every run that traced it tolerates the same replacement. `execve` is always
    /// allowed: a runtime installs the filter before it executes the application.
    /// Numbers the syscall table does not name are returned in `unnamed` (a profile can only
    /// name calls).
    public static func make(for runs: [ReportedRun], mode: Mode = .allowTraced) -> (profile: SeccompProfile, unnamed: [Int]) {
        let label = runs.map(\.measurement.id).joined(separator: ", ")
        var verdicts: [Int: Verdict] = [:]  // traced without a verdict counts as required
        for run in runs {
            for number in run.tracedOnly { verdicts[number] = .required }
            for (number, verdict) in run.measurement.verdicts {
                verdicts[number] = verdicts[number].map { $0.meet(verdict) } ?? verdict
            }
        }
        if let execve = SyscallTable.number(named: "execve") { verdicts[execve] = .required }

        var allow: [Int] = [], stub: [Int] = [], fake: [Int] = []
        for (number, verdict) in verdicts {
            switch (mode, verdict) {
            case (.allowTraced, _), (.minimal, .required): allow.append(number)
            case (.minimal, .stub), (.minimal, .either): stub.append(number)
            case (.minimal, .fake): fake.append(number)
            }
        }
        let unnamed = verdicts.keys.filter { SyscallTable.name(of: $0) == nil }.sorted()
        func names(_ numbers: [Int]) -> [String] { numbers.sorted().compactMap { SyscallTable.name(of: $0) } }
        var rules = [Rule(names: names(allow), action: "SCMP_ACT_ALLOW",
                          comment: mode == .allowTraced ? "traced by \(label)" : "required by \(label)")]
        if !stub.isEmpty {
            rules.append(Rule(names: names(stub), action: "SCMP_ACT_ERRNO", errnoRet: enosys,
                              comment: "stubbed (-ENOSYS): \(label) passes without them"))
        }
        if !fake.isEmpty {
            rules.append(Rule(names: names(fake), action: "SCMP_ACT_ERRNO", errnoRet: 0,
                              comment: "faked (return 0 without running): \(label) passes"))
        }
        let profile = SeccompProfile(defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: enosys,
                                     architectures: ["SCMP_ARCH_X86_64"], syscalls: rules)
        return (profile, unnamed)
    }

    /// Pretty-printed JSON with sorted keys (stable output, diff-friendly), ending in a newline.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }
}
