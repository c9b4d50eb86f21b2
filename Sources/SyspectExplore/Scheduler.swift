import Foundation
import SyspectCore

/// Runs probes `jobs` at a time. The main loop (the caller's thread) asks `next` what may run,
/// starts workers for probes not already in flight, and hands every finished probe to `finished`
/// on the caller's thread (so journaling and progress need no locks), until `next` lists nothing
/// and nothing is in flight.
final class Scheduler: @unchecked Sendable {
    let jobs: Int
    let runner: any ProbeRunning
    /// A (policy, replica) whose launch failed this many times stops the explore.
    let maxErrors: Int
    /// A probe in flight that `next` no longer lists is cancelled (speculation: its outcome is no
    /// longer needed); its run is dropped, never handed to `finished`.
    let cancelsUnlisted: Bool
    /// Probes cancelled so far.
    private(set) var cancelled = 0

    private let condition = NSCondition()
    private var done: [(ProbeRequest, ProbeRun)] = []
    private var inFlight: [ProbeRequest: ProbeCancellation] = [:]
    private var errors: [ProbeRequest: Int] = [:]

    init(jobs: Int, runner: any ProbeRunning, maxErrors: Int = 3, cancelsUnlisted: Bool = false) {
        self.jobs = max(1, jobs)
        self.runner = runner
        self.maxErrors = maxErrors
        self.cancelsUnlisted = cancelsUnlisted
    }

    /// Runs until `next` returns nothing and nothing is in flight. `next` gets the probes in
    /// flight and lists what should run, most wanted first. `finished` returns false to
    /// stop early (the probes in flight still finish and are handed over).
    func run(
        census: Bool,
        next: (Set<ProbeRequest>) -> [ProbeRequest],
        finished: (ProbeRequest, ProbeRun) throws -> Void
    ) throws {
        var stopError: Error?
        while true {
            // Hand over what finished (outside the lock: `finished` writes to the store).
            // A finished probe stays "in flight" until handed over, so `next` (which reads the
            // journal) can never list it again in between.
            condition.lock()
            let batch = done.map { ($0.0, $0.1, inFlight[$0.0]?.isCancelled ?? false) }
            done.removeAll()
            for (request, _, _) in batch { inFlight[request] = nil }
            condition.unlock()
            for (request, run, wasCancelled) in batch {
                if wasCancelled {
                    cancelled += 1
                    continue
                }
                do {
                    try finished(request, run)
                } catch {
                    if stopError == nil { stopError = error }
                }
                if run.outcome == .error {
                    errors[request, default: 0] += 1
                    if errors[request]! >= maxErrors, stopError == nil {
                        stopError = ExploreError.probeCannotRun(policy: request.policy.key, reason: run.reason)
                    }
                }
            }
            condition.lock()
            let flying = inFlight
            condition.unlock()
            let running = Set(flying.keys)
            let wanted = stopError == nil ? next(running) : []
            if cancelsUnlisted {
                let listed = Set(wanted)
                for (request, token) in flying where !listed.contains(request) { token.cancel() }
            }
            let candidates = wanted.filter { !running.contains($0) }
            if candidates.isEmpty && running.isEmpty {
                condition.lock()
                let pending = done.isEmpty
                condition.unlock()
                if pending { break } else { continue }
            }
            var slots = jobs - running.count
            for request in candidates where slots > 0 {
                start(request, census: census)
                slots -= 1
            }
            condition.lock()
            while done.isEmpty && !inFlight.isEmpty { condition.wait() }
            condition.unlock()
        }
        if let stopError { throw stopError }
    }

    private func start(_ request: ProbeRequest, census: Bool) {
        let token = ProbeCancellation()
        condition.lock()
        inFlight[request] = token
        condition.unlock()
        let runner = self.runner
        let thread = Thread { [self] in
            let result = runner.run(request, census: census, cancellation: token)
            condition.lock()
            done.append((request, result))
            condition.signal()
            condition.unlock()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
}

/// Asks a running probe to stop because its outcome is no longer needed. The runner kills the
/// probe's tree at its next check; the scheduler drops the run.
public final class ProbeCancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    public init() {}

    public func cancel() { lock.withLock { cancelled = true } }
    public var isCancelled: Bool { lock.withLock { cancelled } }
}
