import Foundation

extension CharacterSet {
    /// RFC 3986 unreserved characters: everything else in a path segment or query value is percent-encoded.
    static let kubePathSegment = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
    )
}

/// Builds a query string from ordered pairs, encoding every reserved character.
func encodeQuery(_ items: [(String, String)]) -> String {
    items.map { name, value in
        let encodedName = name.addingPercentEncoding(withAllowedCharacters: .kubePathSegment) ?? name
        let encodedValue = value.addingPercentEncoding(withAllowedCharacters: .kubePathSegment) ?? value
        return "\(encodedName)=\(encodedValue)"
    }.joined(separator: "&")
}
