import Foundation
import SyspectCore

/// The profile's documented shape: OCI runtime spec `config-linux.md#seccomp` and Docker's
/// seccomp profile format (which adds `comment`).
enum DocumentedSeccompShape {
    static let topLevelKeys: Set<String> = ["defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath", "listenerMetadata", "syscalls"]
    static let ruleKeys: Set<String> = ["names", "action", "errnoRet", "args", "comment", "includes", "excludes"]
    static let actions: Set<String> = ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                                       "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"]
    static let architectures: Set<String> = ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
                                             "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
                                             "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
                                             "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
                                             "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64"]

    /// Problems found in `json` (empty when it has the documented shape); rules as (action, errno, names).
    static func check(_ json: Data) throws -> (problems: [String], rules: [(action: String, errno: Int?, names: [String])]) {
        var problems: [String] = []
        guard let top = try JSONSerialization.jsonObject(with: json) as? [String: Any] else { return (["not a JSON object"], []) }
        problems += Set(top.keys).subtracting(topLevelKeys).map { "unknown top-level key \($0)" }
        if !actions.contains(top["defaultAction"] as? String ?? "") { problems.append("bad defaultAction") }
        if let errno = top["defaultErrnoRet"], !(errno is Int) { problems.append("defaultErrnoRet is not an integer") }
        let archs = top["architectures"] as? [String] ?? []
        if archs.isEmpty || !Set(archs).isSubset(of: architectures) { problems.append("bad architectures \(archs)") }
        var rules: [(String, Int?, [String])] = []
        for case let rule as [String: Any] in top["syscalls"] as? [Any] ?? [] {
            problems += Set(rule.keys).subtracting(ruleKeys).map { "unknown rule key \($0)" }
            let names = rule["names"] as? [String] ?? []
            if names.isEmpty { problems.append("rule without names") }
            for name in names where SyscallTable.number(named: name) == nil { problems.append("unknown syscall name \(name)") }
            let action = rule["action"] as? String ?? ""
            if !actions.contains(action) { problems.append("bad action \(action)") }
            rules.append((action, rule["errnoRet"] as? Int, names))
        }
        if rules.isEmpty { problems.append("no syscalls rules") }
        return (problems, rules)
    }
}
