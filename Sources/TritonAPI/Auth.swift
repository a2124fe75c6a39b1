import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TritonDomain
import TritonEngine

/// Bearer tokens → users and roles, from a tokens file:
/// `{"tokens": [{"token": "…", "user": "alice", "roles": ["deployer", "approver"]}]}`.
/// Without one the API is open: every caller is an admin named by `X-Triton-User` (or `anonymous`).
public struct Authenticator: Sendable {
    private let users: [String: Principal]?

    public var isOpen: Bool { self.users == nil }

    public static let open = Authenticator(users: nil)

    init(users: [String: Principal]?) { self.users = users }

    public init(tokensFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw APIConfigurationError("--tokens-file: cannot read \(path)")
        }
        struct File: Decodable {
            struct Entry: Decodable {
                var token: String
                var user: String
                var roles: [String]
            }
            var tokens: [Entry]
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw APIConfigurationError("--tokens-file: \(path) is not {\"tokens\": [{\"token\", \"user\", \"roles\"}]}")
        }
        var users: [String: Principal] = [:]
        for (index, entry) in file.tokens.enumerated() {
            var roles: Set<Role> = []
            for name in entry.roles {
                guard let role = Role(rawValue: name) else {
                    throw APIConfigurationError(
                        "--tokens-file: tokens[\(index)].roles: '\(name)' is not one of viewer, deployer, approver, admin"
                    )
                }
                roles.insert(role)
            }
            guard entry.token.count >= 8 else {
                throw APIConfigurationError("--tokens-file: tokens[\(index)].token: must be at least 8 characters")
            }
            users[entry.token] = Principal(name: entry.user, roles: roles)
        }
        self.users = users
    }

    /// The caller, from `Authorization: Bearer …` (gRPC: the `authorization` metadata).
    public func user(authorization: String?, userHeader: String?) throws -> Principal {
        guard let users = self.users else {
            return Principal(name: userHeader?.nilIfEmpty ?? "anonymous", roles: [.admin])
        }
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else {
            throw APIError(.unauthorized, code: "unauthenticated", "send Authorization: Bearer <token>")
        }
        let token = authorization.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        guard let user = users[token] else { throw APIError(.unauthorized, code: "unauthenticated", "the token is not known") }
        return user
    }
}

public struct APIConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The request context of the API: the caller and where the request came from.
public struct APIContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var remoteAddress: SocketAddress?
    public var user = Principal(name: "anonymous", roles: [])

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Throws 403 naming the missing role.
    func require(_ role: Role, for what: String) throws(IntentDenied) {
        try self.user.require(role, for: what)
    }

    /// Who asks and why, for the intent layer: the authenticated principal, never a claimed name.
    func caller(_ request: Request, reason: String?) -> Intents.Caller {
        Intents.Caller(
            self.user, reason: reason ?? request.headers[HTTPField.Name("X-Triton-Reason")!],
            requestID: request.headers[HTTPField.Name("X-Request-ID")!] ?? self.id, clientAddress: self.clientAddress,
            source: request.headers[HTTPField.Name("X-Triton-Client")!] == "cli" ? .cli : .api
        )
    }

    var clientAddress: String? {
        guard let address = self.remoteAddress else { return nil }
        if let ip = address.ipAddress, let port = address.port { return "\(ip):\(port)" }
        return address.description
    }
}

extension String {
    var nilIfEmpty: String? { self.isEmpty ? nil : self }
}

/// Sets the caller on the context; health, the OpenAPI document and the web UI's files need no token.
struct AuthMiddleware: RouterMiddleware {
    let authenticator: Authenticator

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        // The web UI's files are public; the page sends the user's token with each API call.
        if path == "/healthz" || path == "/readyz" || path == "/api/v1/openapi.json" || path == "/" || path == "/ui" || path.hasPrefix("/ui/") {
            return try await next(request, context)
        }
        var context = context
        context.user = try self.authenticator.user(
            authorization: request.headers[.authorization], userHeader: request.headers[HTTPField.Name("X-Triton-User")!]
        )
        return try await next(request, context)
    }
}
