import Foundation

/// Rendered pages by everything they are rendered from. A page is a pure function of its view
/// model (what the API answers) and a few page inputs (the form's state, the footer), so the
/// HTML of an equal input is the same string: the key is the input itself, and a snapshot that
/// changes the data changes the key. Bounded: when full it starts over (as `Site`'s plan cache).
final class PageCache: @unchecked Sendable {
    /// One page's input: which page, its view model, and the other values it shows.
    struct Key<Value: Hashable>: Hashable {
        var page: String
        var value: Value
        var context: [String]
    }

    static let shared = PageCache(limit: 128)

    private let lock = NSLock()
    private var pages: [AnyHashable: String] = [:]
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// The page for `key`, rendered by `render` the first time.
    func page<Value: Hashable>(_ page: String, _ value: Value, context: [String] = [], render: () -> String) -> String {
        let key = AnyHashable(Key(page: page, value: value, context: context))
        if let hit = lock.withLock({ pages[key] }) { return hit }
        let html = render()
        lock.withLock {
            if pages.count >= limit { pages.removeAll() }
            pages[key] = html
        }
        return html
    }

    var count: Int { lock.withLock { pages.count } }
}
