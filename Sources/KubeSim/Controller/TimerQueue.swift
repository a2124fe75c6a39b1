/// Due actions of the simulation, ordered by simulated time (then by insertion, so equal times fire
/// in a stable order).
struct TimerQueue<Action> {
    private struct Entry {
        var due: Double
        var sequence: Int
        var action: Action
    }

    private var heap: [Entry] = []
    private var nextSequence = 0

    var isEmpty: Bool { self.heap.isEmpty }
    var count: Int { self.heap.count }
    var nextDue: Double? { self.heap.first?.due }

    mutating func schedule(at due: Double, _ action: Action) {
        self.heap.append(Entry(due: due, sequence: self.nextSequence, action: action))
        self.nextSequence += 1
        var i = self.heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard self.less(i, parent) else { break }
            self.heap.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes and returns the earliest action if it is due at `now`.
    mutating func popDue(_ now: Double) -> (due: Double, action: Action)? {
        guard let first = self.heap.first, first.due <= now else { return nil }
        let last = self.heap.removeLast()
        if !self.heap.isEmpty {
            self.heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var m = i
                if l < self.heap.count, self.less(l, m) { m = l }
                if r < self.heap.count, self.less(r, m) { m = r }
                if m == i { break }
                self.heap.swapAt(i, m)
                i = m
            }
        }
        return (first.due, first.action)
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        let x = self.heap[a]
        let y = self.heap[b]
        return x.due < y.due || (x.due == y.due && x.sequence < y.sequence)
    }
}
