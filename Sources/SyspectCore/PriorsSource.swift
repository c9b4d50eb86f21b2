/// Where an exploration's adaptive priors came from (issue 12 item 7), stored with the
/// exploration and printed by `syspect show`.
public struct PriorsSource: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Origin: String, Sendable, Hashable, Codable {
        /// Other applications' measurements in the database.
        case store
        /// A dataset compiled into syspect (the bundled loupedb measurements).
        case bundled
        /// No priors: every call is tested alone.
        case none
    }

    public var origin: Origin
    /// Applications the priors count (the explored one left out).
    public var apps: Int
    /// For `bundled`: the dataset and its version, e.g. "loupedb at commit a076cf9… (tag …)".
    public var dataset: String?

    public init(origin: Origin, apps: Int, dataset: String? = nil) {
        self.origin = origin
        self.apps = apps
        self.dataset = dataset
    }

    /// "store: 3 other apps", "bundled loupedb at commit … (tag …): 115 other apps", "none (…)".
    public var description: String {
        let count = "\(apps) other app\(apps == 1 ? "" : "s")"
        switch origin {
        case .store: return "store: \(count)"
        case .bundled: return "bundled \(dataset ?? "dataset"): \(count)"
        case .none: return "none (no other application in the database: every call tested alone)"
        }
    }
}
