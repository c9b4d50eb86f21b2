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

    private let condition = NSCondition()
    private var done: [(ProbeRequest, ProbeRun)] = []
    private var inFlight: Set<ProbeRequest> = []
    private var errors: [ProbeRequest: Int] = [:]

    init(jobs: Int, runner: any ProbeRunning, maxErrors: Int = 3) {
        self.jobs = max(1, jobs)
        self.runner = runner
        self.maxErrors = maxErrors
    }

    /// Runs until `next` returns nothing and nothing is in flight. `finished` returns false to
    /// stop early (the probes in flight still finish and are handed over).
    func run(
        census: Bool,
        next: () -> [ProbeRequest],
        finished: (ProbeRequest, ProbeRun) throws -> Void
    ) throws {
        var stopError: Error?
        while true {
            // Hand over what finished (outside the lock: `finished` writes to the store).
            // A finished probe stays "in flight" until handed over, so `next` (which reads the
            // journal) can never list it again in between.
            condition.lock()
            let batch = done
            done.removeAll()
            for (request, _) in batch { inFlight.remove(request) }
            condition.unlock()
            for (request, run) in batch {
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
            let running = inFlight
            condition.unlock()
            let candidates = stopError == nil ? next().filter { !running.contains($0) } : []
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
        condition.lock()
        inFlight.insert(request)
        condition.unlock()
        let runner = self.runner
        let thread = Thread { [self] in
            let result = runner.run(request, census: census)
            condition.lock()
            done.append((request, result))
            condition.signal()
            condition.unlock()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
