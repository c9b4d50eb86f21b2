import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SyspectCore
import SyspectStore

/// A push that could not be made or that the server refused: one line (the server's own message
/// when it sent one).
public struct PushError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: Int?
    public var message: String
    public var description: String { message }
}

/// `syspect push`: gathers local explorations and uploads them to a shared server.
public enum PushClient {
    /// Every exploration of `app` (nil: all) with at least one probe, with what is stored with
    /// it; the measurement goes with the latest exploration of its (app, workload).
    public static func bundle(from store: any ResultStore, app: String?) throws -> PushBundle {
        let explorations = try store.explorations(app: app)
        let measurements = try store.measurements(apps: app.map { [$0] }, kind: nil).filter { $0.source == "syspect" }
        var latest: [String: String] = [:]
        for e in explorations.sorted(by: { $0.startedAt < $1.startedAt }) { latest["\(e.app)/\(e.workload)"] = e.key }
        var pushed: [PushedExploration] = []
        for e in explorations {
            let probes = try store.probes(exploration: e.key)
            guard !probes.isEmpty else { continue }
            let id = "\(e.app)/\(e.workload)"
            pushed.append(PushedExploration(
                exploration: e, probes: probes, findings: try store.findings(exploration: e.key),
                impactRuns: try store.impactRuns(exploration: e.key), impactResults: try store.impactResults(exploration: e.key),
                staticAnalysis: try store.staticAnalysis(exploration: e.key),
                measurement: latest[id] == e.key ? measurements.first { $0.id == id } : nil))
        }
        return PushBundle(explorations: pushed)
    }

    /// POSTs `bundle` to `server`'s /api/v1/push with the token; the server's merge summary.
    /// Blocks the calling thread (the CLI); from Swift concurrency use `send(_:to:token:)`.
    public static func push(_ bundle: PushBundle, to server: URL, token: String, timeout: TimeInterval = 600) throws(PushError) -> PushSummary {
        let request = try pushRequest(bundle, to: server, token: token, timeout: timeout)
        let (data, status) = try sendBlocking(request)
        return try summary(data, status: status, server: server)
    }

    /// `push`, awaiting the answer instead of blocking a thread.
    public static func send(_ bundle: PushBundle, to server: URL, token: String, timeout: TimeInterval = 600) async throws(PushError) -> PushSummary {
        let request = try pushRequest(bundle, to: server, token: token, timeout: timeout)
        let answer: (Data, URLResponse)
        do { answer = try await URLSession.shared.data(for: request) } catch {
            throw unreachable(request, error)
        }
        return try summary(answer.0, status: (answer.1 as? HTTPURLResponse)?.statusCode ?? 0, server: server)
    }

    static func pushRequest(_ bundle: PushBundle, to server: URL, token: String, timeout: TimeInterval) throws(PushError) -> URLRequest {
        let body: Data
        do { body = try PushBundle.encoder().encode(bundle) } catch {
            throw PushError(status: nil, message: "could not encode the push: \(error)")
        }
        var request = URLRequest(url: server.appendingPathComponent("api/v1/push"), timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = body
        return request
    }

    static func summary(_ data: Data, status: Int, server: URL) throws(PushError) -> PushSummary {
        guard status == 200 else {
            throw PushError(status: status, message: "the server refused the push (HTTP \(status)): \(serverMessage(data))")
        }
        do { return try JSONDecoder().decode(PushSummary.self, from: data) } catch {
            throw PushError(status: status, message: "the server's answer is not a push summary (is \(server) a syspect server?): \(serverMessage(data))")
        }
    }

    static func unreachable(_ request: URLRequest, _ error: any Error) -> PushError {
        PushError(status: nil, message: "could not reach \(request.url?.absoluteString ?? "?"): \(error.localizedDescription); check --to and that `syspect serve` runs there")
    }

    /// The `error.message` of a JSON error body, else the body's start.
    static func serverMessage(_ data: Data) -> String {
        struct Body: Decodable { struct E: Decodable { var message: String }; var error: E }
        if let body = try? JSONDecoder().decode(Body.self, from: data) { return body.error.message }
        let text = String(decoding: data.prefix(200), as: UTF8.self)
        return text.isEmpty ? "(no message)" : text
    }

    /// One request, synchronously (URLSession with a semaphore).
    static func sendBlocking(_ request: URLRequest) throws(PushError) -> (Data, Int) {
        final class Box: @unchecked Sendable { var result: Result<(Data, Int), PushError>? }
        let box = Box(), done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                box.result = .failure(unreachable(request, error))
            } else {
                box.result = .success((data ?? Data(), (response as? HTTPURLResponse)?.statusCode ?? 0))
            }
            done.signal()
        }.resume()
        done.wait()
        return try box.result!.get()
    }
}
