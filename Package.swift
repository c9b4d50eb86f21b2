// swift-tools-version:6.0
import PackageDescription

// Layout (see README "Architecture"): a tiny C shim, libraries by concern, a thin CLI.
let package = Package(
    name: "syspect",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "syspect", targets: ["syspect"]),
        .library(name: "SyspectCore", targets: ["SyspectCore"]),
        .library(name: "SyspectStore", targets: ["SyspectStore"]),
        .library(name: "SyspectPostgres", targets: ["SyspectPostgres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/ordo-one/TextTable", from: "0.0.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // SHA-256 of API tokens (already built for postgres-nio).
        .package(url: "https://github.com/apple/swift-crypto.git", "3.9.0"..<"6.0.0"),
    ],
    targets: [
        // Syscall table (generated), value types shared by every module.
        .target(name: "SyspectCore"),
        // The results store: SQLite (embedded default), schema migrations, loupedb import/export.
        .target(name: "SyspectStore", dependencies: [
            "SyspectCore",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // The same store on PostgreSQL (own target: postgres-nio is slow to build).
        .target(name: "SyspectPostgres", dependencies: [
            "SyspectCore", "SyspectStore",
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        // Support plans and API importance from measurements (pure library).
        // Optimised even in debug builds: its search is compute-bound and ~100x slower
        // unoptimised, which would make the plan property tests take minutes.
        .target(name: "SyspectPlan", dependencies: ["SyspectCore"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // benchmarks/plan-speed.sh: plan speed against the greedy baseline.
        .executableTarget(name: "plan-bench", dependencies: ["SyspectCore", "SyspectPlan"], path: "benchmarks/plan-bench"),
        // Writes SyspectCore's bundled loupedb data (run by scripts/gen-bundled-loupedb).
        .executableTarget(name: "gen-bundled-loupedb", dependencies: ["SyspectCore"]),
        // Exploration: spec files, sandboxed probes, strategies, verdict merge, culprit search.
        .target(name: "SyspectExplore", dependencies: [
            "SyspectCore", "SyspectTrace",
            .product(name: "Yams", package: "Yams"),
        ]),
        // Reports (HTML/SVG figures), seccomp profiles, stub skeletons, man page (pure library).
        .target(name: "SyspectReport", dependencies: ["SyspectCore", "SyspectPlan"]),
        // The C shim: clone/ptrace/seccomp/namespace helpers (only what Swift cannot do).
        .target(name: "CSyspect"),
        // The tracer: BPF filter builder, ptrace loop on one dedicated thread, census.
        .target(name: "SyspectTrace", dependencies: ["CSyspect", "SyspectCore"]),
        // Capstone 4 disassembler (Debian libcapstone-dev) for the static analyser.
        .systemLibrary(name: "CCapstone", pkgConfig: "capstone", providers: [.apt(["libcapstone-dev"])]),
        // Static binary analysis: ELF reader, loader view, Capstone sweep, syscall-number data flow,
        // call graph (`syspect static`). Optimised in debug builds too: the sweep is compute-bound.
        .target(name: "SyspectStatic", dependencies: ["CCapstone", "SyspectCore"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // A C program of known behaviour for the tracer's tests.
        .executableTarget(name: "syspect-fixture"),
        // The results site (`syspect serve`, docs/serve.md): view models and queries as plain values,
        // the JSON API, tokens and push merge; Pages/ holds the HTML pages. Hummingbird 2 is slow to build.
        .target(name: "SyspectServe", dependencies: [
            "SyspectCore", "SyspectStore", "SyspectPostgres", "SyspectPlan", "SyspectReport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The CLI: argument parsing and printing only.
        .executableTarget(name: "syspect", dependencies: [
            "SyspectCore", "SyspectTrace", "SyspectStore", "SyspectPostgres", "SyspectExplore", "SyspectReport", "SyspectPlan", "SyspectStatic",
            "SyspectServe",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Hostile input for every parser of user files (docs/fuzzing.md): the targets and a seeded
        // mutator; `syspect-fuzz` replays/mutates, or is a libFuzzer target (benchmarks/fuzz.sh).
        .target(name: "SyspectFuzz", dependencies: ["SyspectCore", "SyspectExplore", "SyspectPlan", "SyspectReport", "SyspectTrace"]),
        .executableTarget(name: "syspect-fuzz", dependencies: ["SyspectFuzz"]),

        // Shared by the test targets: running the built binaries.
        .target(name: "SyspectTestSupport", path: "Tests/SyspectTestSupport"),
        .testTarget(name: "SyspectCoreTests", dependencies: ["SyspectCore", "SyspectTestSupport"]),
        .testTarget(name: "SyspectTraceTests", dependencies: ["SyspectTrace", "SyspectCore", "SyspectTestSupport"]),
        .testTarget(name: "SyspectPlanTests", dependencies: ["SyspectTestSupport", "SyspectCore", "SyspectPlan"], exclude: ["Golden"]),
        .testTarget(name: "SyspectExploreTests", dependencies: ["SyspectTestSupport", "SyspectExplore", "SyspectCore", "SyspectStore", "SyspectPostgres"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "SyspectReportTests", dependencies: ["SyspectReport", "SyspectCore", "SyspectPlan", "SyspectTestSupport"]),
        .testTarget(name: "SyspectFuzzTests", dependencies: ["SyspectFuzz", "SyspectCore", "SyspectTestSupport"]),
        .testTarget(name: "SyspectStaticTests", dependencies: ["SyspectStatic", "SyspectCore", "SyspectTestSupport"]),
        .testTarget(name: "SyspectStoreTests", dependencies: ["SyspectTestSupport", "SyspectCore", "SyspectStore", "SyspectPostgres"]),
        .testTarget(name: "SyspectServeTests", dependencies: ["SyspectTestSupport", "SyspectCore", "SyspectStore", "SyspectPostgres", "SyspectServe"]),
    ]
)
