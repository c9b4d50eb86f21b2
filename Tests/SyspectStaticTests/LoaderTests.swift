import Testing
@testable import SyspectStatic

@Suite struct LoaderTests {
    @Test func ldconfigOutputGivesX86_64EntriesFirstWins() {
        let text = """
        3 libs found in cache `/etc/ld.so.cache'
        \tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1
        \tlibz.so.1 (libc6) => /lib/i386-linux-gnu/libz.so.1
        \tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6
        \tlibc.so.6 (libc6,x86-64) => /other/libc.so.6
        """
        let cache = LibraryResolver.parseLdconfig(text)
        #expect(cache == ["libz.so.1": "/lib/x86_64-linux-gnu/libz.so.1", "libc.so.6": "/lib/x86_64-linux-gnu/libc.so.6"])
    }

    @Test func searchOrderRpathLibraryPathRunpathCacheDefaults() {
        let files: Set<String> = ["/opt/app/bin/../lib/liba.so", "/ld/liba.so", "/run/liba.so", "/cache/liba.so", "/lib/x86_64-linux-gnu/liba.so"]
        let r = LibraryResolver(libraryPath: ["/ld"], cache: ["liba.so": "/cache/liba.so"])
        let exists: (String) -> Bool = { files.contains($0) }
        // DT_RPATH first (only without DT_RUNPATH), with $ORIGIN.
        #expect(r.resolve("liba.so", requester: "/opt/app/bin/app", rpath: ["$ORIGIN/../lib"], runpath: [], exists: exists) == "/opt/app/bin/../lib/liba.so")
        // With DT_RUNPATH, RPATH is ignored and LD_LIBRARY_PATH comes first.
        #expect(r.resolve("liba.so", requester: "/opt/app/bin/app", rpath: ["$ORIGIN/../lib"], runpath: ["/run"], exists: exists) == "/ld/liba.so")
        let noLD = LibraryResolver(libraryPath: [], cache: ["liba.so": "/cache/liba.so"])
        #expect(noLD.resolve("liba.so", requester: "/x", rpath: [], runpath: ["/run"], exists: exists) == "/run/liba.so")
        #expect(noLD.resolve("liba.so", requester: "/x", rpath: [], runpath: [], exists: exists) == "/cache/liba.so")
        let noCache = LibraryResolver(libraryPath: [], cache: [:])
        #expect(noCache.resolve("liba.so", requester: "/x", rpath: [], runpath: [], exists: exists) == "/lib/x86_64-linux-gnu/liba.so")
        #expect(noCache.resolve("libmissing.so", requester: "/x", rpath: [], runpath: [], exists: exists) == nil)
    }
}
