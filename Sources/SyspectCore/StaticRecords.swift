import Foundation

/// The static analysis stored with one exploration (issue 13): `syspect explore` analyses the
/// spec's target binaries and every library they load right after the baseline census, and
/// checks the census against it. The store keeps each object once per build-id and result.
public struct ExplorationStatic: Codable, Sendable, Hashable {
    /// `ExplorationRecord.key`.
    public var exploration: String
    public var analysis: StaticAnalysis
    /// Baseline census calls the static set does not contain (x86-64 against
    /// `analysis.syscalls`, i386 against `analysis.i386Syscalls`, x32 always): an analysis or
    /// tracing error, reported by `explore` and `show`, never ignored. Empty when sound.
    public var outsideStatic: [CensusEntry]
    public var analysedAt: Date
    /// Wall seconds the analysis took (a second analysis of the same files comes from the cache).
    public var seconds: Double

    public init(exploration: String, analysis: StaticAnalysis, outsideStatic: [CensusEntry] = [],
                analysedAt: Date = Date(), seconds: Double = 0) {
        self.exploration = exploration
        self.analysis = analysis
        self.outsideStatic = outsideStatic
        self.analysedAt = analysedAt
        self.seconds = seconds
    }
}

