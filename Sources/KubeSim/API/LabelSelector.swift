import Foundation
import TritonJSON

/// A Kubernetes label selector, parsed from its string form (`app=demo,tier in (a,b),!legacy`) or
/// from a `LabelSelector` object (`matchLabels`, `matchExpressions`).
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, [String])
        case notIn(String, [String])
        case exists(String)
        case doesNotExist(String)

        func matches(_ labels: [String: String]) -> Bool {
            switch self {
            case .equals(let k, let v): labels[k] == v
            case .notEquals(let k, let v): labels[k] != v
            case .isIn(let k, let values): labels[k].map(values.contains) ?? false
            case .notIn(let k, let values): labels[k].map { !values.contains($0) } ?? true
            case .exists(let k): labels[k] != nil
            case .doesNotExist(let k): labels[k] == nil
            }
        }

        var stringForm: String {
            switch self {
            case .equals(let k, let v): "\(k)=\(v)"
            case .notEquals(let k, let v): "\(k)!=\(v)"
            case .isIn(let k, let values): "\(k) in (\(values.sorted().joined(separator: ",")))"
            case .notIn(let k, let values): "\(k) notin (\(values.sorted().joined(separator: ",")))"
            case .exists(let k): k
            case .doesNotExist(let k): "!\(k)"
            }
        }
    }

    public var requirements: [Requirement]
    /// A selector that matches nothing (a nil selector object in some APIs).
    public var matchesNothing = false

    public init(requirements: [Requirement] = []) { self.requirements = requirements }

    public static let everything = LabelSelector()

    public var isEmpty: Bool { self.requirements.isEmpty && !self.matchesNothing }

    public func matches(_ labels: [String: String]) -> Bool {
        if self.matchesNothing { return false }
        return self.requirements.allSatisfy { $0.matches(labels) }
    }

    public func matches(object: JSONValue) -> Bool {
        self.matches(object.labels)
    }

    /// The string form, as `status.labelSelector` shows it.
    public var description: String { self.requirements.map(\.stringForm).joined(separator: ",") }

    /// Parses the string form used in `?labelSelector=`.
    public static func parse(_ text: String) throws(KubeAPIError) -> LabelSelector {
        var requirements: [Requirement] = []
        for term in Self.splitTerms(text) {
            let t = term.trimmingWhitespace()
            if t.isEmpty { continue }
            requirements.append(try Self.parseTerm(t))
        }
        return LabelSelector(requirements: requirements)
    }

    /// Builds a selector from a `LabelSelector` object (`matchLabels` and `matchExpressions`).
    public init(object: JSONValue) throws(KubeAPIError) {
        var requirements: [Requirement] = []
        if let matchLabels = object["matchLabels"]?.objectValue {
            for key in matchLabels.keys.sorted() {
                requirements.append(.equals(key, matchLabels[key]?.stringValue ?? ""))
            }
        }
        for expression in object["matchExpressions"]?.arrayValue ?? [] {
            guard let key = expression["key"]?.stringValue, let op = expression["operator"]?.stringValue else {
                throw .badRequest("invalid label selector expression: \(expression)")
            }
            let values = (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue)
            switch op {
            case "In": requirements.append(.isIn(key, values))
            case "NotIn": requirements.append(.notIn(key, values))
            case "Exists": requirements.append(.exists(key))
            case "DoesNotExist": requirements.append(.doesNotExist(key))
            default: throw .badRequest("\(op) is not a valid label selector operator")
            }
        }
        self.requirements = requirements
    }

    private static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for ch in text {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if ch == "," && depth == 0 {
                terms.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        terms.append(current)
        return terms
    }

    private static func parseTerm(_ t: String) throws(KubeAPIError) -> Requirement {
        if t.hasPrefix("!") {
            return .doesNotExist(String(t.dropFirst()).trimmingWhitespace())
        }
        if let range = t.range(of: "!=") {
            return .notEquals(String(t[..<range.lowerBound]).trimmingWhitespace(), String(t[range.upperBound...]).trimmingWhitespace())
        }
        if let range = t.range(of: "==") {
            return .equals(String(t[..<range.lowerBound]).trimmingWhitespace(), String(t[range.upperBound...]).trimmingWhitespace())
        }
        if let range = t.range(of: "=") {
            return .equals(String(t[..<range.lowerBound]).trimmingWhitespace(), String(t[range.upperBound...]).trimmingWhitespace())
        }
        let parts = t.split(separator: " ", maxSplits: 1).map(String.init)
        if parts.count == 2 {
            let key = parts[0]
            let rest = parts[1].trimmingWhitespace()
            let isNotIn = rest.hasPrefix("notin")
            let isIn = rest.hasPrefix("in")
            if isIn || isNotIn, let open = rest.firstIndex(of: "("), let close = rest.lastIndex(of: ")") {
                let values = rest[rest.index(after: open)..<close].split(separator: ",").map {
                    String($0).trimmingWhitespace()
                }
                return isNotIn ? .notIn(key, values) : .isIn(key, values)
            }
            throw .badRequest("unable to parse requirement: found '\(rest)', expected: in, notin, =, ==, !=")
        }
        guard Self.isValidKey(t) else {
            throw .badRequest("unable to parse requirement: invalid label key \"\(t)\"")
        }
        return .exists(t)
    }

    private static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) }
    }
}

/// A Kubernetes field selector (`metadata.name=x,status.phase!=Running`).
public struct FieldSelector: Sendable, Hashable {
    public struct Term: Sendable, Hashable {
        public var field: String
        public var value: String
        public var negated: Bool
    }

    public var terms: [Term]

    public static let everything = FieldSelector(terms: [])

    public var isEmpty: Bool { self.terms.isEmpty }

    /// Parses `?fieldSelector=` for a resource, refusing fields that resource does not index.
    public static func parse(_ text: String, for type: ResourceType) throws(KubeAPIError) -> FieldSelector {
        var terms: [Term] = []
        for raw in text.split(separator: ",") {
            let t = String(raw).trimmingWhitespace()
            if t.isEmpty { continue }
            let term: Term
            if let r = t.range(of: "!=") {
                term = Term(field: String(t[..<r.lowerBound]), value: String(t[r.upperBound...]), negated: true)
            } else if let r = t.range(of: "==") {
                term = Term(field: String(t[..<r.lowerBound]), value: String(t[r.upperBound...]), negated: false)
            } else if let r = t.range(of: "=") {
                term = Term(field: String(t[..<r.lowerBound]), value: String(t[r.upperBound...]), negated: false)
            } else {
                throw .badRequest("invalid selector: '\(t)'; can't understand '\(t)'")
            }
            let field = term.field.trimmingWhitespace()
            guard field == "metadata.name" || field == "metadata.namespace" || type.extraFieldSelectors.contains(field)
            else {
                throw .badRequest("field label not supported: \(field)")
            }
            terms.append(Term(field: field, value: term.value.trimmingWhitespace(), negated: term.negated))
        }
        return FieldSelector(terms: terms)
    }

    public func matches(_ object: JSONValue) -> Bool {
        self.terms.allSatisfy { term in
            let actual = Self.fieldValue(object, term.field)
            return term.negated ? actual != term.value : actual == term.value
        }
    }

    /// The value of a selectable field; a missing field reads as the empty string.
    static func fieldValue(_ object: JSONValue, _ field: String) -> String {
        let path = field == "source" ? "source.component" : field
        switch object.lookup(path) {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return String(b)
        case .double(let d): return String(d)
        default: return ""
        }
    }

    /// The name this selector pins, if it is a single `metadata.name=` term.
    var pinnedName: String? {
        self.terms.first { $0.field == "metadata.name" && !$0.negated }?.value
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
