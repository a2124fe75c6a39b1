import EventStore
import Foundation
import TritonDomain

/// Text forms of values for query parameters and rows (PostgreSQL's text protocol).
enum SQLText {
    static func int(_ value: Int) -> String { String(value) }
    static func bool(_ value: Bool) -> String { value ? "t" : "f" }
    /// ISO-8601 UTC with milliseconds, as the event log keeps times.
    static func date(_ value: Date?) -> String? { value.map(ISO8601Milliseconds.string(from:)) }

    /// A select-list expression that renders a `timestamptz` column as ISO-8601 UTC with
    /// milliseconds, exactly as ``date(_:)`` writes it.
    static func isoColumn(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    }

    /// A PostgreSQL array literal of text values, for `= ANY($1::text[])`.
    static func textArray(_ values: [String]) -> String {
        let items = values.map { value in
            "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return "{" + items.joined(separator: ",") + "}"
    }

    /// A log position read as `tx::text, position`.
    static func logPosition(_ row: [String?], table: String) throws -> LogPosition {
        guard row.count >= 2, let tx = row[0].flatMap(UInt64.init) else {
            throw ProjectionError.badColumn(table, "tx", row.first ?? nil, "expected a transaction id")
        }
        guard let position = row[1].flatMap(Int64.init) else {
            throw ProjectionError.badColumn(table, "position", row.count > 1 ? row[1] : nil, "expected a bigint")
        }
        return LogPosition(transaction: tx, position: position)
    }
}

/// Reads the text columns of one row by name, with errors that name the table and column.
struct RowReader {
    let table: String
    let columns: [String]
    let row: [String?]

    private func raw(_ column: String) -> String? {
        guard let index = self.columns.firstIndex(of: column), index < self.row.count else { return nil }
        return self.row[index]
    }

    func optionalString(_ column: String) -> String? { self.raw(column) }

    func string(_ column: String) throws -> String {
        guard let value = self.raw(column) else {
            throw ProjectionError.badColumn(self.table, column, nil, "expected a value")
        }
        return value
    }

    func int(_ column: String) throws -> Int {
        let value = self.raw(column)
        guard let number = value.flatMap(Int.init) else {
            throw ProjectionError.badColumn(self.table, column, value, "expected an integer")
        }
        return number
    }

    func int64(_ column: String) throws -> Int64 {
        let value = self.raw(column)
        guard let number = value.flatMap(Int64.init) else {
            throw ProjectionError.badColumn(self.table, column, value, "expected a bigint")
        }
        return number
    }

    func bool(_ column: String) throws -> Bool {
        switch self.raw(column) {
        case "t": return true
        case "f": return false
        case let other: throw ProjectionError.badColumn(self.table, column, other, "expected a boolean")
        }
    }

    func date(_ column: String) throws -> Date? {
        guard let text = self.raw(column) else { return nil }
        guard let date = ISO8601Milliseconds.date(from: text) else {
            throw ProjectionError.badColumn(self.table, column, text, "expected an ISO-8601 UTC time")
        }
        return date
    }
}
