/// A pure decision model: `decide` turns a command into events (or a typed rejection) and `evolve`
/// folds events into state. Neither reads a clock, the network or a random source.
public protocol Decider {
    /// What someone (a person, the observer, the timer worker, the executor) asks for.
    associatedtype Command: Sendable
    /// A fact that happened; stored in the event log.
    associatedtype Event: Sendable & Codable
    /// What `evolve` builds from the events.
    associatedtype State: Sendable
    /// Why a command was refused.
    associatedtype Rejection: Error

    /// The state before any event.
    static var initialState: State { get }
    /// Decides which events a command produces in the given state, or rejects it.
    static func decide(_ command: Command, _ state: State) throws(Rejection) -> [Event]
    /// Applies one event to the state. Total: events are facts and never fail.
    static func evolve(_ state: State, _ event: Event) -> State
    /// `evolve` in place (a model whose state is large implements it to change the state without a copy).
    static func apply(_ event: Event, to state: inout State)
}

extension Decider {
    public static func apply(_ event: Event, to state: inout State) {
        state = Self.evolve(state, event)
    }

    /// Folds events, oldest first, into a state.
    public static func fold(_ events: some Sequence<Event>) -> State {
        Self.fold(events, from: Self.initialState)
    }

    /// Folds `events` on top of an existing state.
    public static func fold(_ events: some Sequence<Event>, from state: State) -> State {
        events.reduce(into: state) { state, event in Self.apply(event, to: &state) }
    }
}
