import Crypto
import Foundation
import Hummingbird
import SyspectStore

/// API tokens (docs/serve.md): a secret "syspect_" + 64 hex digits shown once when made; the
/// store keeps only its SHA-256, so a leaked database leaks no token.
public enum Tokens {
    public static let prefix = "syspect_"

    /// A new random secret (32 bytes from the system's generator).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return prefix + hex(bytes)
    }

    /// The SHA-256 of a secret, hex: what the store keeps.
    public static func hash(_ secret: String) -> String {
        hex(Array(SHA256.hash(data: Data(secret.utf8))))
    }

    /// A token name: 1–64 letters, digits, `._-@`.
    public static func validName(_ name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")
        return !name.isEmpty && name.count <= 64 && name.allSatisfy { allowed.contains($0) }
    }

    /// The secret a request presents: `Authorization: Bearer SECRET`, else the `syspect_token`
    /// cookie (for pages opened in a browser on a token-reads server).
    public static func presented(authorization: String?, cookie: String?) -> String? {
        if let authorization {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let secret = parts[1].trimmingCharacters(in: .whitespaces)
                return secret.isEmpty ? nil : secret
            }
        }
        for part in (cookie ?? "").split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0] == "syspect_token", !kv[1].isEmpty { return kv[1] }
        }
        return nil
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return out
    }
}

extension Site {
    /// The name of the valid token a request presents; 401 when it has none, 403 when it is
    /// unknown or revoked (the message says which header to send and how to get a token).
    func authorize(_ request: Request, for what: String) throws(SiteError) -> String {
        guard let secret = Tokens.presented(authorization: request.headers[.authorization], cookie: request.headers[.cookie]) else {
            throw SiteError(.unauthorized, "\(what) needs a token: send 'Authorization: Bearer TOKEN' "
                + "(the server's admin makes one with `syspect serve token add NAME`)")
        }
        guard let store = sqlStore else {
            throw SiteError(.forbidden, "this server has no database, so no tokens: start it with --db")
        }
        let name: String?
        do { name = try store.activeTokenName(hash: Tokens.hash(secret)) } catch { throw Self.storeFailure(error) }
        guard let name else {
            throw SiteError(.forbidden, "the token is unknown or revoked; ask the server's admin for a new one (`syspect serve token list` shows them)")
        }
        return name
    }
}

/// `--token-reads`: every request (pages and API) but `/api/v1/info` needs a valid token.
struct ReadAccessMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let site: Site

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if site.configuration.readAccess == .token, request.uri.path != "/api/v1/info" {
            _ = try site.authorize(request, for: "reading this server (it runs with --token-reads)")
        }
        return try await next(request, context)
    }
}
