import Foundation
import Hummingbird
@testable import SyspectServe
import SyspectTestSupport
import Testing

/// docs/openapi.yaml describes exactly the API routes the router serves (`APIRoutes.all` is the
/// table the router registers).
@Suite struct OpenAPIDocumentTests {
    /// (method, path) pairs of the document's `paths:` section: a path is a two-space-indented
    /// key starting with '/', a method a four-space-indented get/post/put/patch/delete key.
    static func documentedRoutes(_ text: String) -> [APIRoute] {
        var routes: [APIRoute] = [], path: String?, inPaths = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty {
                inPaths = line == "paths:"
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path {
                let key = line.dropFirst(4).prefix { $0 != ":" }
                if let method = ["get": HTTPRequest.Method.get, "post": .post, "put": .put, "patch": .patch, "delete": .delete][String(key)] {
                    routes.append(APIRoute(method, path))
                }
            }
        }
        return routes
    }

    @Test func theDocumentAndTheRouterHaveTheSameRoutes() throws {
        let text = try String(contentsOfFile: RepositoryData.root + "/docs/openapi.yaml", encoding: .utf8)
        let documented = Self.documentedRoutes(text)
        #expect(documented.count == Set(documented).count, "a route is documented twice")
        #expect(Set(documented) == Set(APIRoutes.all),
                "documented only: \(Set(documented).subtracting(APIRoutes.all)); served only: \(Set(APIRoutes.all).subtracting(documented))")
        #expect(text.hasPrefix("openapi: 3."))
    }

    @Test func theParserReadsPathsAndMethodsOnly() {
        let text = "openapi: 3.0.3\npaths:\n  /a/{x}:\n    get:\n      summary: s\n    post:\n      responses: {}\n  /b:\n    parameters: []\n    delete:\ncomponents:\n  /c:\n    get:\n"
        #expect(Self.documentedRoutes(text) == [APIRoute(.get, "/a/{x}"), APIRoute(.post, "/a/{x}"), APIRoute(.delete, "/b")])
    }
}
