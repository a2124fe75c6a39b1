import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web UI at `/ui/`: static ES modules, CSS and one HTML page (`Sources/TritonAPI/UI`, bundled; no
/// build step, nothing from a CDN). The files are public; the page calls the API with the user's token.
enum WebUI {
    struct Asset {
        var body: ByteBuffer
        var contentType: String
        var etag: String
    }

    /// Every file under `UI/`, by path relative to it (`index.html`, `js/app.js`), read once.
    static let assets: [String: Asset] = {
        guard let root = Bundle.module.resourceURL?.appendingPathComponent("UI"),
            let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        else { return [:] }
        var assets: [String: Asset] = [:]
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true, let data = try? Data(contentsOf: url) else {
                continue
            }
            let path = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in data { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            assets[path] = Asset(
                body: ByteBuffer(bytes: data), contentType: Self.contentType(url.pathExtension),
                etag: "\"\(String(hash, radix: 16))\""
            )
        }
        return assets
    }()

    static func contentType(_ pathExtension: String) -> String {
        switch pathExtension {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }

    static func add(to router: Router<APIContext>) {
        router.get("/") { _, _ in Response.redirect(to: "/ui/") }
        // The router treats `/ui` and `/ui/` alike; the page names its files by absolute paths.
        router.get("/ui") { request, _ in try Self.serve("index.html", request) }
        router.get("/ui/**") { request, context in
            let path = context.parameters.getCatchAll().joined(separator: "/")
            return try Self.serve(path.isEmpty ? "index.html" : path, request)
        }
    }

    static func serve(_ path: String, _ request: Request) throws -> Response {
        guard let asset = Self.assets[path] else { throw APIError.notFound("path", "the web UI has no file \(path)") }
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.eTag] = asset.etag
        // Revalidated on each load: a new build of `serve` is seen at once, an unchanged file costs a 304.
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        if path == "index.html" {
            headers[HTTPField.Name("Content-Security-Policy")!] =
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
        }
        if request.headers[.ifNoneMatch] == asset.etag { return Response(status: .notModified, headers: headers) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }
}
