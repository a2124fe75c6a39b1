import Foundation

extension KubeError {
    /// Maps an HTTP error response (ideally carrying a `Status` body) to a typed error.
    static func fromResponse(
        httpStatus: Int,
        body: Data,
        retryAfterHeader: String?,
        request: String
    ) -> KubeError {
        let status = try? JSONDecoder().decode(KubeStatus.self, from: body)
        let isStatus = status?.reason != nil || status?.message != nil
        let code = Self.code(httpStatus: httpStatus, reason: status?.reason)
        var retryAfter: Duration?
        if let header = retryAfterHeader?.trimmingCharacters(in: .whitespaces), let seconds = Int(header) {
            retryAfter = .seconds(seconds)
        } else if let seconds = status?.details?.retryAfterSeconds {
            retryAfter = .seconds(seconds)
        }
        let message: String
        if isStatus, let text = status?.message {
            message = text
        } else {
            message = "the server answered HTTP \(httpStatus) without a Status body"
        }
        return KubeError(
            code,
            message,
            httpStatus: httpStatus,
            status: isStatus ? status : nil,
            retryAfter: retryAfter,
            request: request
        )
    }

    static func code(httpStatus: Int, reason: String?) -> Code {
        switch reason {
        case "NotFound": return .notFound
        case "AlreadyExists": return .alreadyExists
        case "Conflict": return .conflict
        case "Invalid": return .invalid
        case "Forbidden": return .forbidden
        case "Unauthorized": return .unauthorized
        case "Gone", "Expired": return .gone
        case "TooManyRequests": return .tooManyRequests
        case "BadRequest": return .badRequest
        case "MethodNotAllowed": return .methodNotAllowed
        case "UnsupportedMediaType": return .unsupportedMediaType
        case "ServiceUnavailable": return .serviceUnavailable
        case "Timeout", "ServerTimeout": return .serverTimeout
        case "InternalError": return .internalError
        default: break
        }
        switch httpStatus {
        case 400: return .badRequest
        case 401: return .unauthorized
        case 403: return .forbidden
        case 404: return .notFound
        case 405: return .methodNotAllowed
        case 409: return .conflict
        case 410: return .gone
        case 415: return .unsupportedMediaType
        case 422: return .invalid
        case 429: return .tooManyRequests
        case 503: return .serviceUnavailable
        case 504: return .serverTimeout
        case 500...599: return .internalError
        default: return .unexpectedResponse
        }
    }
}
