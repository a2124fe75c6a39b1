/// Exclusive, crash-released ownership of named things (a running flow) among processes that share
/// one store.
///
/// A lock is held by this process until it releases it or dies: the store drops a dead holder's locks
/// on its own (PostgreSQL: a session's advisory locks go with its connection), so another process can
/// take the thing over on its next attempt. When the connection that holds the locks is lost, every
/// lock is gone at once; ``claim(_:)`` then throws or returns only what it could take again, and the
/// caller must stop acting on anything it no longer holds.
public protocol OwnershipLocks: Sendable {
    /// Tries to take every key in `keys` not yet held here, without waiting; returns the keys this
    /// process holds afterwards (among `keys`). Throws when the store cannot be reached — the caller
    /// must then assume it holds nothing.
    func claim(_ keys: [String]) async throws -> Set<String>

    /// Gives a key up (the thing is finished, or this process stops driving it).
    func release(_ key: String) async throws

    /// Gives every key up.
    func releaseAll() async
}
