extension KubeClient {
    /// How the client authenticates. Combine a bearer token source with a TLS client certificate if needed.
    ///
    /// Printing or dumping credentials shows `********` instead of any secret.
    public struct Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
        CustomReflectable
    {
        /// A static bearer token.
        public var bearerToken: String?
        /// A file holding a bearer token (a projected service-account token); re-read when it rotates and takes
        /// precedence over ``bearerToken``, as in client-go.
        public var tokenFile: String?
        /// Basic-auth user name and password.
        public var basic: (username: String, password: String)? {
            get { self.basicUsername.map { ($0, self.basicPassword ?? "") } }
            set {
                self.basicUsername = newValue?.username
                self.basicPassword = newValue?.password
            }
        }
        /// An exec credential plugin; its token or client certificate wins over the other fields.
        public var exec: ExecConfig?

        private var basicUsername: String?
        private var basicPassword: String?

        /// Creates credentials.
        public init(
            bearerToken: String? = nil,
            tokenFile: String? = nil,
            basic: (username: String, password: String)? = nil,
            exec: ExecConfig? = nil
        ) {
            self.bearerToken = bearerToken
            self.tokenFile = tokenFile
            self.basicUsername = basic?.username
            self.basicPassword = basic?.password
            self.exec = exec
        }

        /// No authentication (or a TLS client certificate only).
        public static let none = Credentials()

        /// A static bearer token.
        public static func bearerToken(_ token: String) -> Credentials { Credentials(bearerToken: token) }

        /// A token file, re-read when it changes.
        public static func tokenFile(_ path: String) -> Credentials { Credentials(tokenFile: path) }

        public var description: String {
            var parts: [String] = []
            if self.bearerToken != nil { parts.append("bearerToken: ********") }
            if let tokenFile = self.tokenFile { parts.append("tokenFile: \(tokenFile)") }
            if let username = self.basicUsername { parts.append("basic: \(username):********") }
            if let exec = self.exec { parts.append("exec: \(exec.command)") }
            return "Credentials(\(parts.joined(separator: ", ")))"
        }

        public var debugDescription: String { self.description }

        public var customMirror: Mirror { Mirror(self, children: ["redacted": self.description]) }
    }
}
