// Daemons start together (systemd starts the target's units at once): ingest and the
// janitor both open a new sessions database and apply its schema; neither may stop
// with "database is locked" (seen in the end-to-end test under load).
import MathreelSessions
import Testing
import TestSupport

@Suite struct SessionStartTests {
    @Test func storesOpeningANewDatabaseAtOnceAllOpenIt() async throws {
        for _ in 0..<10 {
            let dir = TempDir()
            let state = dir.state
            let failed = await withTaskGroup(of: String?.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        do { _ = try SessionStore(state: state); return nil } catch { return "\(error)" }
                    }
                }
                var out: [String] = []
                for await f in group { if let f { out.append(f) } }
                return out
            }
            #expect(failed.isEmpty, "\(failed)")
            if !failed.isEmpty { return }
        }
    }
}
