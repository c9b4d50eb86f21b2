// Prints the Swift source of Sources/SyspectCore/BundledLoupedb+Generated.swift for a loupedb
// folder. Used by scripts/gen-bundled-loupedb; reads with the same reader as `--data DIR`.
import SyspectCore
#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    print("usage: gen-bundled-loupedb LOUPEDB_DIR SOURCE_COMMIT")
    exit(2)
}
do {
    let data = try Loupedb.read(directory: arguments[1])
    print(BundledLoupedb.swiftSource(for: data, sourceCommit: arguments[2]), terminator: "")
} catch {
    print("gen-bundled-loupedb: \(error)")
    exit(1)
}
