// RenderSlots: the renders under way at once, whichever jobs they belong to
// (MATHREEL_MAX_CONCURRENT_RENDERS). A lesson's scenes each take a slot, so a
// lesson of eight scenes and a single scene share the machine as nine renders,
// first come first served.

public actor RenderSlots {
    let total: Int
    private var used = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(_ total: Int) { self.total = max(1, total) }

    /// Waits for a free slot and takes it; every `acquire` is paired with one `release`.
    public func acquire() async {
        if used < total { used += 1; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Gives the slot to the longest waiter, or back.
    public func release() {
        if waiting.isEmpty { used = max(0, used - 1) } else { waiting.removeFirst().resume() }
    }

    public var inUse: Int { used }
}
