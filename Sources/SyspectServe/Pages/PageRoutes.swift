import Foundation
import Hummingbird
import SyspectCore
import SyspectPlan

// The HTML pages of `syspect serve` (docs/serve.md, "Pages"). Each page renders the same value
// its JSON API route answers (Site's queries); a refused request gets the API's status and its
// one-line message as an HTML page.

/// Registers the HTML pages (everything not under /api/). Called by `SiteServer.router`.
func addPageRoutes(to router: Router<BasicRequestContext>, site: Site) {
    router.get("/") { request, _ in
        try page(site) { () throws(SiteError) in
            let catalogue = try site.catalogue(try APIRoutes.catalogueQuery(RequestInput.query(request))), note = sourceNote(site)
            return PageCache.shared.page("catalogue", catalogue, context: [note]) { CataloguePage.render(catalogue, sourceNote: note) }
        }
    }
    router.get("/apps/:app") { _, context in
        try page(site) { () throws(SiteError) in
            let detail = try site.app(try APIRoutes.parameter(context, "app")), note = sourceNote(site)
            return PageCache.shared.page("app", detail, context: [note]) { AppPage.render(detail, oneWorkload: false, sourceNote: note) }
        }
    }
    router.get("/apps/:app/:workload") { _, context in
        try page(site) { () throws(SiteError) in
            let detail = try site.app(try APIRoutes.parameter(context, "app"), workload: try APIRoutes.parameter(context, "workload"))
            let note = sourceNote(site)
            return PageCache.shared.page("workload", detail, context: [note]) { AppPage.render(detail, oneWorkload: true, sourceNote: note) }
        }
    }
    router.get("/compare") { request, _ in
        let fields = PageInput.pairs(request.uri.query ?? "")
        let names = try site.data().appNames
        var form = ComparePage.Form(apps: PageInput.list(fields, "apps"), workload: .all,
                                    onlyDiffering: PageInput.last(fields, "only") == "differ")
        do throws(SiteError) {
            form.workload = try APIRoutes.workload(PageInput.last(fields, "workload"))
            // Nothing chosen yet: the form alone.
            let comparison = form.apps.isEmpty ? nil : try site.compare(form.apps, workload: form.workload)
            let note = sourceNote(site)
            guard let comparison else { return html(ComparePage.render(nil, form: form, appNames: names, sourceNote: note)) }
            return html(PageCache.shared.page("compare", comparison, context: [note, form.onlyDiffering ? "differ" : ""] + names) {
                ComparePage.render(comparison, form: form, appNames: names, sourceNote: note)
            })
        } catch {
            return html(ComparePage.render(nil, form: form, appNames: names, problem: error.message, sourceNote: sourceNote(site)), status: error.status)
        }
    }
    router.get("/plan") { request, _ in
        let fields = PageInput.pairs(request.uri.query ?? "")
        return try planPage(site, fields: fields, compute: PageInput.last(fields, "os") != nil || PageInput.last(fields, "osList") != nil)
    }
    router.post("/plan") { request, _ in
        let body = try await RequestInput.body(request, limit: site.configuration.maxBodyBytes)
        let fields: [(String, String)]
        do throws(SiteError) {
            fields = try PageInput.formFields(body, contentType: request.headers[.contentType] ?? "")
        } catch {
            return try planPage(site, fields: [], compute: false, problem: error)
        }
        return try planPage(site, fields: fields, compute: true)
    }
}

/// The plan page for form `fields`; `compute` false shows the form alone.
private func planPage(_ site: Site, fields: [(String, String)], compute: Bool, problem: SiteError? = nil) throws -> Response {
    let osLists = try site.osLists(), names = try site.data().appNames
    var request = PlanRequest(os: compute ? nil : "Kerla")
    do throws(SiteError) {
        if let problem { throw problem }
        guard compute else {
            return html(PlanPage.render(nil, request: request, osLists: osLists, appNames: names, sourceNote: sourceNote(site)))
        }
        request = try PageInput.planRequest(fields)
        let view = try site.plan(request), note = sourceNote(site), shown = request
        // The form's state is part of the page: the request and the choices it offers.
        let context = [note, "\(shown)"] + osLists.map { "\($0.name) \($0.syscalls)" } + names
        return html(PageCache.shared.page("plan", view, context: context) {
            PlanPage.render(view, request: shown, osLists: osLists, appNames: names, sourceNote: note)
        })
    } catch {
        return html(PlanPage.render(nil, request: request, osLists: osLists, appNames: names, problem: error.message, sourceNote: sourceNote(site)),
                    status: error.status)
    }
}

/// Renders a page; a `SiteError` becomes an HTML page with its status and message.
private func page(_ site: Site, _ render: () throws(SiteError) -> String) throws -> Response {
    do throws(SiteError) {
        return html(try render())
    } catch {
        return html(PageLayout.problem(title: error.status == .notFound ? "Not found" : "Cannot show this page", message: error.message,
                                       sourceNote: sourceNote(site)), status: error.status)
    }
}

private func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "text/html; charset=utf-8"],
             body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
}

/// The line under every page: where the data comes from.
private func sourceNote(_ site: Site) -> String {
    var parts: [String] = []
    if let store = site.store { parts.append("Data: results database \(store.location)") }
    if site.configuration.bundled { parts.append(BundledLoupedb.attribution) }
    return parts.joined(separator: ". ")
}

/// Reading the pages' forms: repeated fields (checkboxes), multipart/form-data (file uploads).
enum PageInput {
    /// Query or urlencoded form fields in order, repeated names kept.
    static func pairs(_ text: String) -> [(String, String)] {
        text.split(separator: "&").compactMap { RequestInput.form(String($0)).first }
    }

    static func last(_ fields: [(String, String)], _ name: String) -> String? {
        fields.last { $0.0 == name }?.1
    }

    /// Every value of `name`, each split at commas (`apps=a,b` and `apps=a&apps=b` alike), once each.
    static func list(_ fields: [(String, String)], _ name: String) -> [String] {
        var out: [String] = []
        for (key, value) in fields where key == name {
            for item in value.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty && !out.contains(item) {
                out.append(item)
            }
        }
        return out
    }

    /// The plan form's fields as the API's plan request (`APIRoutes.planRequest`): checked
    /// applications are repeated fields, the API's `apps` one comma-separated list.
    static func planRequest(_ fields: [(String, String)]) throws(SiteError) -> PlanRequest {
        var query = Dictionary(fields, uniquingKeysWith: { _, last in last })
        query["apps"] = list(fields, "apps").joined(separator: ",")
        return try APIRoutes.planRequest(query)
    }

    /// A POSTed form: multipart/form-data (the page's own, with files) or urlencoded.
    static func formFields(_ body: Data, contentType: String) throws(SiteError) -> [(String, String)] {
        let type = contentType.lowercased()
        if type.hasPrefix("multipart/form-data") {
            guard let boundary = parameter(contentType, "boundary"), !boundary.isEmpty else {
                throw SiteError.badRequest("the multipart form has no boundary in its Content-Type; send the page's form as it is")
            }
            return try multipart(body, boundary: boundary)
        }
        guard type.isEmpty || type.hasPrefix("application/x-www-form-urlencoded") else {
            throw SiteError(.unsupportedMediaType, "the plan form takes multipart/form-data or application/x-www-form-urlencoded, not \(contentType); POST JSON to /api/v1/plan")
        }
        guard let text = String(data: body, encoding: .utf8) else { throw SiteError.badRequest("the form is not UTF-8 text") }
        return pairs(text)
    }

    /// `boundary=…` (quoted or not) of a header value.
    static func parameter(_ header: String, _ name: String) -> String? {
        for part in header.split(separator: ";").dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, kv[0].lowercased() == name else { continue }
            return kv[1].hasPrefix("\"") && kv[1].hasSuffix("\"") && kv[1].count >= 2 ? String(kv[1].dropFirst().dropLast()) : kv[1]
        }
        return nil
    }

    /// The fields of a multipart/form-data body (RFC 7578): each part's `name` and its content
    /// as UTF-8 text (the form's files are support lists and costs: text). A part that is not
    /// UTF-8, or a body that does not end with the closing boundary, is refused.
    static func multipart(_ body: Data, boundary: String) throws(SiteError) -> [(String, String)] {
        let bytes = [UInt8](body)
        let delimiter = Array("--\(boundary)".utf8)
        let truncated = SiteError.badRequest("the multipart form is cut short (no closing boundary); send it again")
        var positions: [Int] = []
        var i = 0
        while let found = find(delimiter, in: bytes, from: i) {
            positions.append(found)
            i = found + delimiter.count
        }
        guard positions.count >= 2 else { throw truncated }
        let closing = positions.last! + delimiter.count
        guard bytes.count >= closing + 2, bytes[closing] == UInt8(ascii: "-"), bytes[closing + 1] == UInt8(ascii: "-") else { throw truncated }
        var fields: [(String, String)] = []
        for (start, end) in zip(positions, positions.dropFirst()) {
            // Each part: CRLF, headers, CRLF CRLF, content, CRLF (before the next delimiter).
            var from = start + delimiter.count
            if bytes[from...].starts(with: [13, 10]) { from += 2 }
            var to = end
            if to - 2 >= from, bytes[to - 2] == 13, bytes[to - 1] == 10 { to -= 2 }
            let part = Array(bytes[from..<to])
            guard let split = find([13, 10, 13, 10], in: part, from: 0) else {
                throw SiteError.badRequest("a part of the multipart form has no header end; send the page's form as it is")
            }
            let headers = String(decoding: part[..<split], as: UTF8.self)
            guard let disposition = headers.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition:") }),
                  let name = parameter(String(disposition), "name") else {
                throw SiteError.badRequest("a part of the multipart form has no Content-Disposition name")
            }
            guard let value = String(bytes: part[(split + 4)...], encoding: .utf8) else {
                throw SiteError.badRequest("the form field '\(name)' is not UTF-8 text; upload a plain-text support list (one syscall per line)")
            }
            fields.append((name, value))
        }
        return fields
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        var i = from
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
