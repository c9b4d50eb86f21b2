import SyspectCore
import SyspectExplore
import SyspectStatic

/// The analyser of this machine's binaries (SyspectStatic: the loader's library search, the
/// call graph, the object cache) behind `explore`'s static stage.
struct MachineStaticAnalyzer: StaticAnalyzing {
    var analyzer = StaticAnalyzer()

    func analyze(binaries: [String]) throws -> StaticAnalysis {
        try analyzer.analyse(binaries)
    }
}
