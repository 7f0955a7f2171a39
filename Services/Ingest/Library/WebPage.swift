// WebPage: the page ingest serves at `/` (web_page.html) and its script at `/app.js`
// (app.js), embedded at build time. Plain HTML, CSS and JavaScript, nothing fetched
// from elsewhere, no inline script (the CSP allows only 'self' scripts); server text
// reaches the page only as textContent.
enum WebPage {
    static let html = String(decoding: PackageResources.web_page_html, as: UTF8.self)
    static let script = String(decoding: PackageResources.app_js, as: UTF8.self)
}
