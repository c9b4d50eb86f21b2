import Hummingbird

// OWNED BY THE SERVE-PAGES ENGINEER (see /work/team/serve-contract.md): the HTML pages.
// Created empty by serve-api so the target builds; `SiteServer.router` calls it after the API routes.

/// Registers the HTML pages (everything not under /api/).
func addPageRoutes(to router: Router<BasicRequestContext>, site: Site) {}
