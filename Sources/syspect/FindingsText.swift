import SyspectCore

/// Text of an exploration's sub-feature, pseudo-file and fake-value findings (issue 5), for
/// `explore`, `show --features` / `--files` and `plan --features`.
enum FindingsText {
    /// Two or three lines of counts; empty when nothing was found.
    static func summary(_ f: FeatureFindings) -> String {
        var out = ""
        if !f.features.isEmpty {
            let probed = f.features.compactMap(\.verdict)
            out += "sub-features: \(f.features.count) traced, \(probed.count) probed alone"
                + (probed.isEmpty ? "" : ": " + counts(probed)) + "\n"
        }
        if !f.files.isEmpty {
            let probed = f.files.filter { $0.absentPasses != nil || $0.stubPasses != nil }
            out += "pseudo-files: \(f.files.count) named, \(probed.count) probed"
                + (probed.isEmpty ? "" : ": absent passes \(probed.filter { $0.absentPasses == true }.count), "
                    + "stub passes \(probed.filter { $0.stubPasses == true }.count)") + "\n"
        }
        if !f.fakeValues.isEmpty {
            out += "fakes that needed a plausible value: "
                + f.fakeValues.sorted { $0.key < $1.key }.map { "\(SyscallTable.displayName(of: $0.key)) = \($0.value)" }
                    .joined(separator: ", ") + "\n"
        }
        return out
    }

    static func counts(_ verdicts: [Verdict]) -> String {
        Verdict.allCases.map { v in "\(v.rawValue) \(verdicts.filter { $0 == v }.count)" }.joined(separator: ", ")
    }

    /// One line per sub-feature: call, argument, name, calls, verdict ("-": not probed).
    static func features(_ f: FeatureFindings) -> String {
        guard !f.features.isEmpty else { return "no sub-feature census (explore again to record one)\n" }
        var out = "   nr  syscall          argument        feature                          calls  verdict\n"
        for x in f.features {
            let feature = x.use.feature
            out += pad(String(feature.syscall), 5, left: true) + "  " + pad(feature.syscallName, 16) + " "
                + pad(feature.argument, 15) + " " + pad(feature.name, 32) + " " + pad(String(x.use.calls), 6, left: true)
                + "  " + (x.verdict?.rawValue ?? "-") + "\n"
        }
        return out
    }

    /// One line per pseudo-file: path, calls, whether absent / stub passed ("-": not probed).
    static func files(_ f: FeatureFindings) -> String {
        guard !f.files.isEmpty else { return "no pseudo-file census (explore again to record one)\n" }
        func passes(_ b: Bool?) -> String { b.map { $0 ? "passes" : "fails" } ?? "-" }
        var out = "path                                          calls  absent  stub\n"
        for x in f.files {
            out += pad(x.use.path, 45) + " " + pad(String(x.use.totalCalls), 6, left: true) + "  "
                + pad(passes(x.absentPasses), 6) + "  " + passes(x.stubPasses) + "\n"
        }
        return out
    }

    private static func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
        guard s.count < width else { return s }
        let fill = String(repeating: " ", count: width - s.count)
        return left ? fill + s : s + fill
    }
}

extension FindingsText {
    /// The `show --features` / `--files` sections of one workload (nil findings: not explored
    /// by syspect, e.g. imported from loupedb).
    static func sections(_ findings: FeatureFindings?, features: Bool, files: Bool) -> String {
        guard let findings else { return "no exploration of this workload in the database: no sub-features or pseudo-files\n\n" }
        var out = ""
        if features { out += "sub-features\n" + Self.features(findings) + "\n" }
        if files { out += "pseudo-files\n" + Self.files(findings) + "\n" }
        if !findings.fakeValues.isEmpty { out += summary(FeatureFindings(fakeValues: findings.fakeValues)) + "\n" }
        return out
    }
}
