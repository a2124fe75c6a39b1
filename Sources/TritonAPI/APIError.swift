import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TritonDomain
import TritonEngine

/// An error reply: `{"code", "message", "field"}` with an HTTP status.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    /// The authorization rule that refused the request (`role`, `canary-approval`, `four-eyes`, …).
    public var rule: String?

    public init(_ status: HTTPResponse.Status, code: String, field: String? = nil, rule: String? = nil, _ message: String) {
        self.status = status
        self.code = code
        self.field = field
        self.rule = rule
        self.message = message
    }

    /// A refusal of the authorization policy: 403 `forbidden` with the rule named.
    init(_ denied: IntentDenied) {
        self.init(.forbidden, code: "forbidden", rule: denied.rule.rawValue, denied.description)
    }

    public var description: String { "\(self.status.code) \(self.code)\(self.field.map { " \($0)" } ?? ""): \(self.message)" }

    static func badRequest(_ field: String?, _ message: String) -> APIError {
        APIError(.badRequest, code: "badRequest", field: field, message)
    }

    static func notFound(_ field: String, _ message: String) -> APIError {
        APIError(.notFound, code: "notFound", field: field, message)
    }

    /// A domain rejection with the status that fits it.
    init(_ rejection: DomainRejection) {
        let status: HTTPResponse.Status
        switch rejection.code {
        case .invalidField, .invalidBatch, .flowNotRollbackable: status = .unprocessableContent
        case .unknownFlow, .notCreated: status = .notFound
        case .alreadyExists, .flowFinished, .paused, .notPaused, .nothingToAdvance, .nothingToDo, .activeFlowExists, .notActiveFlow,
            .instanceDeleting, .notEmergency, .alreadyReviewed:
            status = .conflict
        }
        self.init(status, code: rejection.code.rawValue, field: rejection.field, rejection.reason)
    }

    struct Body: Encodable {
        var code: String
        var message: String
        var field: String?
        var rule: String?
    }

    var response: Response {
        let data = (try? JSONEncoder().encode(Body(code: self.code, message: self.message, field: self.field, rule: self.rule))) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if self.status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"triton\"" }
        return Response(status: self.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error a route throws into the `{"code","message","field"}` reply; nothing unexpected
/// escapes as a bare 500 without a body. Every reply carries `X-Request-ID`: the caller's, else the one
/// the server gave the request (the id the request's events record).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    static var requestIDHeader: HTTPField.Name { HTTPField.Name("X-Request-ID")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await self.reply(request, context: context, next: next)
        response.headers[Self.requestIDHeader] = request.headers[Self.requestIDHeader] ?? context.id
        return response
    }

    private func reply(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let rejection as DomainRejection {
            return APIError(rejection).response
        } catch let denied as IntentDenied {
            return APIError(denied).response
        } catch let error as EventStoreError where error.code == .invalidInput {
            // The log refused what a request would have written (a string with U+0000 that got past the
            // request's own checks); nothing was written.
            return APIError(.badRequest, code: "badRequest", "the log refused the request: \(error.message)").response
        } catch let error as HTTPError {
            return APIError(error.status, code: error.status.code == 404 ? "notFound" : "httpError", error.body ?? error.status.reasonPhrase)
                .response
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            return APIError(.internalServerError, code: "internal", "the request failed: \(error)").response
        }
    }
}
