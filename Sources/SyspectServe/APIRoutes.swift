import Foundation
import Hummingbird
import SyspectCore
import SyspectPlan

/// One route of the JSON API, in OpenAPI spelling ("/api/v1/apps/{app}").
public struct APIRoute: Hashable, Sendable, CustomStringConvertible {
    public var method: HTTPRequest.Method
    public var path: String

    public init(_ method: HTTPRequest.Method, _ path: String) {
        self.method = method
        self.path = path
    }

    /// The router's spelling of the path ("/api/v1/apps/:app").
    var routerPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? ":" + part.dropFirst().dropLast() : String(part)
        }.joined(separator: "/")
    }

    public var description: String { "\(method.rawValue) \(path)" }
}

/// The JSON API (docs/serve.md, docs/openapi.yaml): thin handlers over `Site`. The table below is
/// what the router registers, so `APIRoutes.all` is exactly the set of API routes served.
public enum APIRoutes {
    typealias Handler = @Sendable (Request, BasicRequestContext, Site) async throws -> Response

    static let table: [(APIRoute, Handler)] = [
        (APIRoute(.get, "/api/v1/info"), { _, _, site in try json(site.info()) }),
        (APIRoute(.get, "/api/v1/apps"), { request, _, site in
            let q = RequestInput.query(request)
            return try json(site.catalogue(try catalogueQuery(q)))
        }),
        (APIRoute(.get, "/api/v1/apps/{app}"), { _, context, site in
            try json(site.app(try parameter(context, "app")))
        }),
        (APIRoute(.get, "/api/v1/apps/{app}/{workload}"), { _, context, site in
            try json(site.app(try parameter(context, "app"), workload: try parameter(context, "workload")))
        }),
        (APIRoute(.get, "/api/v1/apps/{app}/{workload}/export"), { request, context, site in
            let q = RequestInput.query(request)
            guard let raw = q["format"], let format = ExportFormat(rawValue: raw) else {
                throw SiteError.badRequest("format must be one of \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", ")); got '\(q["format"] ?? "")'")
            }
            return file(try site.download(app: try parameter(context, "app"), workload: try parameter(context, "workload"),
                                          format: format, source: q["source"]))
        }),
        (APIRoute(.get, "/api/v1/compare"), { request, _, site in
            let q = RequestInput.query(request)
            return try json(site.compare(list(q["apps"]) ?? [], workload: try workload(q["workload"])))
        }),
        (APIRoute(.get, "/api/v1/os"), { _, _, site in try json(site.osLists()) }),
        (APIRoute(.get, "/api/v1/plan"), { request, _, site in
            try json(site.plan(try planRequest(RequestInput.query(request))))
        }),
        (APIRoute(.post, "/api/v1/plan"), { request, context, site in
            try json(site.plan(try await postedPlanRequest(request, context, site)))
        }),
        (APIRoute(.get, "/api/v1/plan/stubs"), { request, _, site in
            file(try site.stubSkeleton(try planRequest(RequestInput.query(request))))
        }),
        (APIRoute(.post, "/api/v1/plan/stubs"), { request, context, site in
            file(try site.stubSkeleton(try await postedPlanRequest(request, context, site)))
        }),
        (APIRoute(.post, "/api/v1/push"), { request, _, site in
            let token = try site.authorize(request, for: "pushing")
            guard RequestInput.isJSON(request) else {
                throw SiteError(.unsupportedMediaType, "a push is JSON: send Content-Type: application/json (what `syspect push` sends)")
            }
            let body = try await RequestInput.body(request, limit: site.configuration.maxBodyBytes)
            return try json(site.push(body: body, token: token))
        }),
    ]

    /// Every API route served.
    public static var all: [APIRoute] { table.map(\.0) }

    /// The methods served at a concrete path ("/api/v1/apps/redis" → GET), for 405 answers.
    static func methods(at path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return all.filter { route in
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: false)
            return pattern.count == parts.count && zip(pattern, parts).allSatisfy { p, s in
                (p.hasPrefix("{") && p.hasSuffix("}") && !s.isEmpty) || p == s
            }
        }.map(\.method)
    }

    static func register(on router: Router<BasicRequestContext>, site: Site) {
        for (route, handler) in table {
            router.on(RouterPath(route.routerPath), method: route.method) { request, context in
                try await handler(request, context, site)
            }
        }
    }

    // MARK: - Inputs

    /// A path parameter, percent-decoded.
    static func parameter(_ context: BasicRequestContext, _ name: String) throws(SiteError) -> String {
        guard let raw = context.parameters.get(name) else { throw SiteError.badRequest("missing path parameter \(name)") }
        return raw.removingPercentEncoding ?? raw
    }

    static func list(_ value: String?) -> [String]? {
        guard let value else { return nil }
        let items = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return items.isEmpty ? nil : items
    }

    static func workload(_ value: String?) throws(SiteError) -> WorkloadSelection {
        guard let value, !value.isEmpty else { return .all }
        guard let w = WorkloadSelection(rawValue: value.lowercased()) else {
            throw SiteError.badRequest("unknown workload kind '\(value)': use benchmark, suite or all")
        }
        return w
    }

    static func catalogueQuery(_ q: [String: String]) throws(SiteError) -> CatalogueQuery {
        var query = CatalogueQuery(text: q["q"].flatMap { $0.isEmpty ? nil : $0 })
        if let kind = q["kind"], !kind.isEmpty {
            guard let k = WorkloadKind(rawValue: kind.lowercased()) else {
                throw SiteError.badRequest("unknown kind '\(kind)': use \(WorkloadKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.kind = k
        }
        if let source = q["source"], !source.isEmpty {
            guard let s = SourceKind(rawValue: source.lowercased()) else {
                throw SiteError.badRequest("unknown source '\(source)': use loupedb or syspect")
            }
            query.source = s
        }
        return query
    }

    /// A plan request from query or form fields: os, osList, osName, apps, workload, costs, curves.
    static func planRequest(_ q: [String: String]) throws(SiteError) -> PlanRequest {
        var curves = true
        if let c = q["curves"], !c.isEmpty {
            guard let b = ["true": true, "1": true, "yes": true, "false": false, "0": false, "no": false][c.lowercased()] else {
                throw SiteError.badRequest("curves must be true or false; got '\(c)'")
            }
            curves = b
        }
        return PlanRequest(
            os: q["os"], osList: q["osList"].flatMap { $0.isEmpty ? nil : $0 }, osName: q["osName"],
            apps: list(q["apps"]), workload: try workload(q["workload"]), costs: q["costs"], curves: curves)
    }

    /// A POSTed plan request: JSON (a `PlanRequest`, `apps` a list) or an HTML form
    /// (application/x-www-form-urlencoded, the same fields as the GET query).
    static func postedPlanRequest(_ request: Request, _ context: BasicRequestContext, _ site: Site) async throws -> PlanRequest {
        let body = try await RequestInput.body(request, limit: site.configuration.maxBodyBytes)
        if RequestInput.isJSON(request) {
            do {
                return try JSONDecoder().decode(PostedPlan.self, from: body).request
            } catch let error as SiteError {
                throw error
            } catch {
                throw SiteError.badRequest("the plan request is not valid JSON: \(RequestInput.describe(error)); send {\"os\": \"Kerla\", \"apps\": [\"redis\"]} or {\"osList\": \"read\\nwrite\"}")
            }
        }
        return try planRequest(RequestInput.form(String(decoding: body, as: UTF8.self)))
    }

    /// The JSON body of POST /api/v1/plan (every field optional but the OS).
    struct PostedPlan: Decodable {
        var os: String?
        var osList: String?
        var osName: String?
        var apps: [String]?
        var workload: String?
        var costs: String?
        var curves: Bool?

        var request: PlanRequest {
            get throws {
                PlanRequest(os: os, osList: osList.flatMap { $0.isEmpty ? nil : $0 }, osName: osName, apps: apps, workload: try APIRoutes.workload(workload),
                            costs: costs, curves: curves ?? true)
            }
        }
    }

    // MARK: - Outputs

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try SiteJSON.encode(value)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func file(_ download: Download) -> Response {
        Response(status: .ok,
                 headers: [.contentType: download.contentType,
                           .contentDisposition: "attachment; filename=\"\(download.fileName)\""],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: download.data)))
    }
}

/// Reading queries and bodies.
enum RequestInput {
    /// Query parameters, form-decoded ('+' is a space); the last of repeated names wins.
    static func query(_ request: Request) -> [String: String] {
        form(request.uri.query ?? "")
    }

    /// application/x-www-form-urlencoded fields.
    static func form(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            out[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return out
    }

    static func isJSON(_ request: Request) -> Bool {
        request.headers[.contentType]?.lowercased().hasPrefix("application/json") ?? false
    }

    /// The whole body, refused with 413 (before reading, when Content-Length says so) past `limit`.
    static func body(_ request: Request, limit: Int) async throws -> Data {
        let tooLarge = SiteError(.contentTooLarge, "the request body is over the server's limit of \(limit) bytes; "
            + "push fewer applications at once (syspect push APP) or start the server with a larger --max-body")
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit { throw tooLarge }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge
        }
    }

    /// A decoding error in one line.
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): return c.debugDescription + path(c.codingPath)
        case DecodingError.keyNotFound(let key, let c): return "missing key '\(key.stringValue)'" + path(c.codingPath)
        case DecodingError.typeMismatch(_, let c): return c.debugDescription + path(c.codingPath)
        case DecodingError.valueNotFound(_, let c): return c.debugDescription + path(c.codingPath)
        default: return "\(error)"
        }
    }

    private static func path(_ p: [any CodingKey]) -> String {
        p.isEmpty ? "" : " at " + p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

extension SiteError: HTTPResponseError {
    /// `{"error": {"message": "..."}}`, Hummingbird's own error shape.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let body = Data(#"{"error":{"message":"#.utf8) + (try encoder.encode(message)) + Data("}}".utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Every error becomes a JSON answer with a message: the site's own (`SiteError`), Hummingbird's
/// (unknown route, wrong method) and anything else (500).
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as SiteError {
            throw error
        } catch let error as HTTPError {
            let allowed = APIRoutes.methods(at: request.uri.path)
            if error.status == .notFound, !allowed.isEmpty, !allowed.contains(request.method) {
                let names = allowed.map(\.rawValue).joined(separator: ", ")
                throw SiteError(.methodNotAllowed, "\(request.uri.path) answers \(names), not \(request.method.rawValue)",
                                headers: [.allow: names])
            }
            let message = error.body ?? (error.status == .notFound
                ? "no such page or API route: \(request.method.rawValue) \(request.uri.path); the API is described in docs/openapi.yaml"
                : error.status.reasonPhrase)
            throw SiteError(error.status, message)
        } catch let error as any HTTPResponseError {
            throw SiteError(error.status, "\(error)")
        } catch {
            throw SiteError(.internalServerError, "internal error: \(error)")
        }
    }
}
