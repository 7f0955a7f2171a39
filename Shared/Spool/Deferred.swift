// Deferred jobs (protocol step 6): a file in deferred/<stage>/ is due when its
// mtime has passed; promotion renames it back into the stage's queue.
import MathreelCore
import MathreelSystem

extension Spool {
    /// Moves every due job of `stage` back to its queue. Returns the next due time, if any.
    @discardableResult
    public func promoteDue(_ stage: Stage, now: Double = Date().timeIntervalSince1970) -> Double? {
        let place = Place.deferred(stage)
        guard let names = try? list(place) else { return nil }
        var nextDue: Double?
        var moved = false
        for name in names where !name.isIgnored {
            guard let info = info(place, name) else { continue }
            if info.mtime <= now {
                if (try? FileOps.renameNoReplace(fd(place), name, fd(.queue(stage)), name)) == true { moved = true }
            } else {
                nextDue = min(nextDue ?? info.mtime, info.mtime)
            }
        }
        if moved {
            try? sync(.queue(stage))
            try? sync(place)
        }
        return nextDue
    }
}
