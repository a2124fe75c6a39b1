import Foundation
import TritonJSON

extension KubeConfig {
    /// Loads the kubeconfig kubectl would use: the files in `KUBECONFIG` (colon-separated, merged; missing
    /// files skipped), or `~/.kube/config`.
    /// - Parameters:
    ///   - environment: The environment to read `KUBECONFIG` and `HOME` from. Defaults to the process's.
    ///   - homeDirectory: Overrides the home directory.
    /// - Throws: ``KubeError`` `.fileUnreadable` when no file exists or one cannot be read,
    ///   `.invalidConfiguration` when one does not parse.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        homeDirectory: String? = nil
    ) throws -> KubeConfig {
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
            let existing = paths.filter { FileManager.default.fileExists(atPath: $0) }
            guard !existing.isEmpty else {
                throw KubeError(.fileUnreadable, "none of the files named in KUBECONFIG exists: \(paths)")
            }
            return try Self.load(paths: existing)
        }
        guard let home = homeDirectory ?? environment["HOME"] else {
            throw KubeError(.fileUnreadable, "no KUBECONFIG and no HOME to find ~/.kube/config")
        }
        return try Self.load(paths: [home + "/.kube/config"])
    }

    /// Loads and merges kubeconfig files in order (the first to define a name wins).
    /// - Throws: ``KubeError`` `.fileUnreadable` or `.invalidConfiguration`, naming the file.
    public static func load(paths: [String]) throws -> KubeConfig {
        var merged = KubeConfig()
        var seen = Set<String>()
        for path in paths {
            let absolute = Self.absolutePath(path, relativeTo: FileManager.default.currentDirectoryPath)
            guard seen.insert(absolute).inserted else { continue }
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: absolute))
            } catch {
                throw KubeError(.fileUnreadable, "cannot read kubeconfig file \(absolute)", underlying: error)
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw KubeError(.invalidConfiguration, "kubeconfig file \(absolute) is not UTF-8 text")
            }
            merged = merged.merging(try KubeConfig(text: text, path: absolute))
        }
        return merged
    }

    /// Parses one kubeconfig document (YAML or JSON).
    /// - Parameters:
    ///   - text: The file's contents.
    ///   - path: The file's path, used to resolve relative paths and in error messages.
    public init(text: String, path: String? = nil) throws {
        let origin = path ?? "<kubeconfig>"
        let tree: JSONValue
        do {
            if text.drop(while: \.isWhitespace).first == "{" {
                do {
                    tree = try JSONValue(jsonData: Data(text.utf8))
                } catch {
                    throw KubeError(.invalidConfiguration, "\(origin) is not valid JSON", underlying: error)
                }
            } else {
                tree = try YAMLSubset.parse(text)
            }
        } catch let error as YAMLSubset.ParseError {
            throw KubeError(
                .invalidConfiguration,
                "\(origin) line \(error.line): \(error.message)"
            )
        }
        let directory = path.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
        var reader = KubeConfigReader(origin: origin, directory: directory)
        self = try reader.read(tree)
        if let path { self.sources = [path] }
    }

    static func absolutePath(_ path: String, relativeTo directory: String?) -> String {
        if path.hasPrefix("/") { return path }
        guard let directory else { return path }
        return URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
    }
}
