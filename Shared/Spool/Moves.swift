// Moves: the spool protocol as one table. Who claims a job from which place and
// where each may hand it on, with the back edge (render → codegen for a repair),
// /forget's cancel, the requeue into incoming/ and the janitor's expiries.
// `Claim.handOn` refuses a move that is not here and `WorkerLoop` a queue no one
// claims from (a programming error, which tests catch as a thrown MoveRefused);
// a test holds docs/ARCHITECTURE.md's "Every move" table against this one.
import MathreelCore

/// Who moves a job: a stage's worker loop, or one of the few others that claim.
public enum Mover: String, Sendable, CaseIterable {
    case ingest, codegen, render, deliver
    /// Deliver's web side and inline sender: the video was watched or sent.
    case watch
    /// Lifetimes: a job waiting too long, a link unused, done/ and failed/ deleted.
    case janitor
    /// A person's /forget (ingest), finished by the janitor when a worker held the job.
    case forget
    /// `mathreel retry` and the chat's /retry: a failed job sent again.
    case requeue
    /// Any stage's loop at start, and the janitor: a job left in active/ by a worker that died.
    case recovery
}

/// One allowed move of a job file.
public struct Move: Hashable, Sendable, CustomStringConvertible {
    public let by: Mover
    public let from: Place
    public let to: Place
    public init(_ by: Mover, _ from: Place, _ to: Place) { self.by = by; self.from = from; self.to = to }
    public var description: String { "\(by.rawValue): \(from.path)/ → \(to.path)/" }
}

/// A claim asked to hand a job on where the protocol has no move.
public struct MoveRefused: Error, CustomStringConvertible, Sendable {
    public let from: Place, to: Place
    public var description: String {
        from == to ? "no one consumes \(from.path)/ in the protocol (see Moves.table)"
            : "no move in the protocol takes a job claimed from \(from.path)/ to \(to.path)/ (see Moves.table)"
    }
}

public enum Moves {
    /// Every move of a job file between places. A stage's queue is also claimed for a
    /// retry (to its deferred/) and a final failure; a deferred job goes back when due.
    public static let table: [Move] = claimed + recovered

    /// The moves made through a claim (and deferred promotion).
    static let claimed: [Move] = {
        var t: [Move] = [
            Move(.ingest, .incoming, .codegen), Move(.ingest, .incoming, .render),
            Move(.codegen, .codegen, .render),
            Move(.render, .render, .deliver), Move(.render, .render, .codegen),
            Move(.deliver, .deliver, .ready),
            Move(.watch, .ready, .done),
            Move(.janitor, .ready, .failed), Move(.forget, .ready, .failed),
            Move(.requeue, .failed, .incoming),
        ]
        for stage in Stage.allCases {
            let q = Place.queue(stage), mover = Mover(rawValue: stage.rawValue)!
            t += [Move(mover, q, .failed), Move(mover, q, .deferred(stage)), Move(mover, .deferred(stage), q),
                  Move(.janitor, q, .failed), Move(.janitor, .deferred(stage), .failed),
                  Move(.forget, q, .failed), Move(.forget, .deferred(stage), .failed)]
        }
        return t
    }()

    /// Recovery of a file in active/: back to its queue, on where it says it was going
    /// (any hand-on from that queue), or failed when workers died holding it too often.
    static let recovered: [Move] = Place.claimable.flatMap { q in
        [Move(.recovery, .active(q), q), Move(.recovery, .active(q), .failed)]
            + handOns.filter { $0.from == q && $0.to != .failed }.map { Move(.recovery, .active(q), $0.to) }
    }

    /// The hand-ons a claim may make, by the place it was claimed from (a deferred job is
    /// claimed into its stage's active/ like any other, so it counts as its queue's).
    static let handOns: Set<Pair> = Set(claimed.map { Pair(from: $0.from.claimedAs, to: $0.to) }.filter { $0.from != $0.to })

    struct Pair: Hashable { let from: Place; let to: Place }

    /// Whether a job claimed from `from` may be handed on to `to`.
    public static func allows(from: Place, to: Place) -> Bool { handOns.contains(Pair(from: from, to: to)) }

    /// Who claims jobs from `place` (empty: no one may consume it).
    public static func claimers(of place: Place) -> Set<Mover> {
        Set(claimed.filter { $0.from == place }.map(\.by))
    }
}

extension Place {
    /// A deferred job is claimed into its stage's queue's active/.
    var claimedAs: Place {
        if case .deferred(let s) = self { return .queue(s) }
        return self
    }
}
