import SyspectCore

/// Which probes the final run and culprit search may need next, most likely first (pure).
///
/// The search (`FinalConfirmation.search`) is sequential: each set it tries depends on the
/// outcomes before it, and each set needs all its replicas. With more probe slots than the set
/// needing a probe now can use, the lookahead runs the search again on guessed outcomes of the
/// sets not decided yet, best-first by how likely each guess is, and lists the replicas of every
/// set met on the way, ranked by the chance that the search will need them:
///
/// - a set not run yet fails with the rate seen so far among the decided sets of two calls or
///   more on the search's way, (failed + 1) / (decided + 2);
/// - a further replica of a set fails with `flakeRate` once one passed;
/// - a replica is needed only if the replicas before it pass (a failed replica decides the set).
///
/// The set the search needs now comes first with all its replicas (what runs without the
/// lookahead); slots beyond them run the sets it will likely need next. Requests less likely
/// to be needed than `minimumChance` are left out, unless they are in
/// flight and still possibly needed (cancelling them would waste what they have run). The
/// scheduler cancels the probes in flight that the list no longer holds.
public struct SearchLookahead: Sendable {
    public var replicas: Int
    /// Searches run on guessed outcomes, at most, per call.
    public var horizon = 48
    public var minimumChance = 0.1
    public static let flakeRate = 0.05

    public init(replicas: Int) { self.replicas = replicas }

    /// Nothing when the search is done with what `journal` knows; else the requests, most
    /// likely needed first (the first is the one the search needs now).
    public func requests<R>(_ journal: Journal, inFlight: Set<ProbeRequest> = [],
                            search: ((ProbePolicy) throws -> Bool) throws -> R) -> [ProbeRequest] {
        var decided: [String: Bool] = [:]
        // The search as it stands: where it waits, and the outcomes it used on the way.
        guard let now = waitingSet(journal, guesses: [:], search: search, decided: &decided) else { return [] }
        let failRate = Double(decided.values.filter { !$0 }.count + 1) / Double(decided.count + 2)

        var chance: [String: (policy: ProbePolicy, chance: Double, order: Int)] = [:]
        var open = [(chance: 1.0, guesses: [String: Bool](), set: now)]
        var runs = 0
        while let index = open.indices.max(by: { open[$0].chance < open[$1].chance }), runs < horizon {
            let node = open.remove(at: index)
            let key = node.set.key
            let order = chance.count
            chance[key, default: (node.set, 0, order)].chance += node.chance
            let pass = passChance(passed: passedReplicas(node.set, journal), failRate: failRate)
            for outcome in [true, false] {
                var guesses = node.guesses
                guesses[key] = outcome
                runs += 1
                var ignored: [String: Bool] = [:]
                if let next = waitingSet(journal, guesses: guesses, search: search, decided: &ignored) {
                    open.append((node.chance * (outcome ? pass : 1 - pass), guesses, next))
                }
            }
        }

        var ranked: [(request: ProbeRequest, chance: Double, order: Int)] = []
        for (policy, setChance, order) in chance.values {
            let passed = passedReplicas(policy, journal)
            var reach = setChance
            var unrun = passed == 0
            for replica in 1...replicas {
                let request = ProbeRequest(policy, replica: replica)
                guard !journal.isFinished(request) else { continue }
                if policy == now {
                    // The set needed now: all its replicas, first (as without the lookahead).
                    ranked.append((request, .infinity, order))
                    continue
                }
                if reach >= minimumChance || (inFlight.contains(request) && reach > 0) { ranked.append((request, reach, order)) }
                // The next replica is needed only if this one passes.
                reach *= unrun ? 1 - failRate : 1 - Self.flakeRate
                unrun = false
            }
        }
        return ranked.sorted { ($0.chance, -$0.order, -$0.request.replica) > ($1.chance, -$1.order, -$1.request.replica) }.map(\.request)
    }

    /// Replicas of `set` that passed (a set the search waits on has no failed one).
    func passedReplicas(_ set: ProbePolicy, _ journal: Journal) -> Int {
        (1...replicas).filter { journal.outcome(ProbeRequest(set, replica: $0)) == .pass }.count
    }

    /// The chance that every replica of a set passes, given that `passed` already did.
    func passChance(passed: Int, failRate: Double) -> Double {
        let remaining = replicas - passed
        if passed > 0 { return pow(1 - Self.flakeRate, remaining) }
        return (1 - failRate) * pow(1 - Self.flakeRate, remaining - 1)
    }

    /// The set the search waits on with the journal's outcomes and `guesses` for the sets it
    /// does not decide; nil when the search ends. `decided` collects the journal's outcomes used.
    func waitingSet<R>(_ journal: Journal, guesses: [String: Bool], search: ((ProbePolicy) throws -> Bool) throws -> R,
                       decided: inout [String: Bool]) -> ProbePolicy? {
        var used: [String: Bool] = [:]
        defer { decided.merge(used) { $1 } }
        do {
            _ = try search { policy in
                switch journal.status(policy, replicas: replicas) {
                case .passed:
                    if policy.count > 1 { used[policy.key] = true }
                    return true
                case .failed:
                    if policy.count > 1 { used[policy.key] = false }
                    return false
                case .pending:
                    if let guess = guesses[policy.key] { return guess }
                    throw NeedsProbe(policy: policy)
                }
            }
            return nil
        } catch let need as NeedsProbe {
            return need.policy
        } catch {
            return nil
        }
    }
}

private func pow(_ base: Double, _ exponent: Int) -> Double {
    (0..<max(0, exponent)).reduce(1) { value, _ in value * base }
}
