import Foundation

/// What the release rolls out. `template` is the opaque PodTemplateSpec JSON, carried and never interpreted.
public struct AppSpec: Sendable, Hashable, Codable {
    public var appID: Int
    public var groupID: Int
    public var appName: String
    public var image: String
    public var template: String?

    public init(appID: Int, groupID: Int, appName: String, image: String, template: String? = nil) {
        self.appID = appID
        self.groupID = groupID
        self.appName = appName
        self.image = image
        self.template = template
    }
}

/// Who or what issued a command, when and why. Passed in with every command; the runner stores it as the
