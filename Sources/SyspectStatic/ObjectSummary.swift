import SyspectCore

/// What one ELF object contributes to any analysis, independent of the other objects: its
/// functions with their system call sites and call edges, imports and exports, and the roots that
/// run whenever it is loaded. This is what `ObjectSummaryCache` stores (keyed by build-id), so a
/// second analysis only re-links the graph (`StaticAnalyzer`).
public struct ObjectSummary: Codable, Sendable, Hashable {
    /// `StaticAnalysis.analyserVersion` when this summary was made.
    public var version: Int
    public var path: String
    public var soname: String?
    /// Lowercase hex of .note.gnu.build-id, "" when none.
    public var buildID: String
    /// File size and modification time (seconds): the cache key when there is no build-id.
    public var fileSize: Int
    public var modificationTime: Int
    public var stripped: Bool
    public var needed: [String]
    public var rpath: [String]
    public var runpath: [String]
    public var interpreter: String?
    public var functions: [FunctionSummary]
    /// Symbols this object's code or data refers to through relocations (bound by name and
    /// version in load order; a definition in this same object counts when it comes first).
    public var imports: [SymbolRef]
    /// Defined function symbols other objects can bind to.
    public var exports: [Export]
    /// Functions that run or can be called whenever the object is loaded: DT_INIT/DT_FINI and
    /// their arrays, IFUNC resolvers, and code addresses stored in data (relocations; for
    /// non-PIE executables also aligned words in data pointing at a function start).
    public var roots: [Int]
    /// Imports whose address is stored in data (R_X86_64_64): bound definers count as roots.
    public var rootImports: [Int]
    /// The function at e_entry (a root for the target executable and the interpreter only).
    public var entryFunction: Int?
    public var warnings: [String]
}

/// A symbol reference: name and, when the object has version information, the version.
public struct SymbolRef: Codable, Sendable, Hashable {
    public var name: String
    public var version: String?
}

/// A defined function symbol: `hidden` is a non-default version (`name@V`), which only a
/// reference naming version V binds to.
public struct Export: Codable, Sendable, Hashable {
    public var name: String
    public var version: String?
    public var hidden: Bool
    public var function: Int
}

/// One function (a symbol, or a start found from call targets, code references, the entry
/// point; it extends to the next start: see docs/static.md).
public struct FunctionSummary: Codable, Sendable, Hashable {
    public var start: UInt64
    public var end: UInt64
    public var name: String?
    /// Functions of the same object it calls, jumps to or takes the address of.
    public var callees: [Int]
    /// Indices into `ObjectSummary.imports` it calls or references (PLT, GOT).
    public var imports: [Int]
    /// Its system call sites, one entry per value found (a site reached by two values has two).
    public var sites: [SiteSummary]
    /// Calls from here to an imported wrapper (`syscall`), with the number at each call.
    public var importCalls: [ImportCall]
}

/// A site as found in one object. Exactly one of `number` / `argument` is set, or neither when
/// unresolved. `argument` (a register family, 7 = rdi) means the value comes from the caller:
/// the function is a wrapper and its callers were resolved instead; `covered` says whether all
/// its callers could be seen (otherwise the site is charged as unresolved).
public struct SiteSummary: Codable, Sendable, Hashable {
    public var address: UInt64
    public var kind: StaticSiteKind
    public var number: Int?
    public var argument: Int?
    public var covered: Bool
    public var note: String?
}

/// A call to an imported wrapper: the syscall number found in `rdi` at the call (or why not).
public struct ImportCall: Codable, Sendable, Hashable {
    public var importIndex: Int
    public var address: UInt64
    public var number: Int?
    public var note: String?
}
