//! What the issuance hot path of `mcpca serve` needs from any backend, whatever the engine:
//! the rows issuance decides on, read as of one instant ([`HotRows`]), and the group commit's
//! plan — which events of a batch go in and which are refused because their client's rate is
//! used up ([`plan_batch`]). The engines (`sqlite::hot`, `postgres::hot`) read and write; the
//! decisions are made here once, so both count a batch the same way.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::audit::{Decision, NewAuditEvent};
use crate::store::{ClientRow, KeyRow, RateCheck, ServerRow};

/// Outcome of one recorded issuance: its `seq`, or the client's window when its rate is used up.
pub type Recorded = std::result::Result<i64, (u32, Option<i64>)>;

/// Most server names a partial reload reads; more changes than that since the last read, and
/// everything is read again.
pub const MAX_CHANGED_NAMES: usize = 256;

/// Which server rows a read covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every server: the snapshot is replaced.
    #[default]
    All,
    /// These names only (every version each has now; none when it is gone): the snapshot keeps
    /// the other names as they are.
    Names(BTreeSet<String>),
}

impl Scope {
    /// The names whose servers changed, from the targets of the audit events committed since
    /// the last read (issuance excluded). Every change of a server appends an event whose
    /// target is its name or `name@version` (names hold no `@`); other targets (client ids,
    /// kids) are harmless extra names. No event: no server changed (none to read). More than
    /// [`MAX_CHANGED_NAMES`] names: everything. (A change made outside mcpca has no event; it
    /// is read by a full read: PostgreSQL announces it as such.)
    pub fn of_changes<'a>(events: impl IntoIterator<Item = &'a str>) -> Scope {
        let mut names = BTreeSet::new();
        for target in events {
            let name = target.split_once('@').map_or(target, |(n, _)| n);
            names.insert(name.to_owned());
            if names.len() > MAX_CHANGED_NAMES {
                return Scope::All;
            }
        }
        Scope::Names(names)
    }

    /// Whether nothing of the servers is to be read again.
    pub fn is_nothing(&self) -> bool {
        matches!(self, Scope::Names(n) if n.is_empty())
    }
}

/// What a read walks through its visitor: first the scope, then every server version of it
/// with its document, in `(name, version)` order, with the version's insertion order.
#[derive(Debug)]
pub enum Walk<'r> {
    Scope(&'r Scope),
    Row(&'r ServerRow, i64),
}

/// Everything issuance decides on, as of one instant.
#[derive(Debug, Default)]
pub struct HotRows {
    /// What `servers` covers.
    pub scope: Scope,
    /// Every version (deleted ones too) of the scope, by name, then oldest first (as
    /// `list_versions`). Documents are left out: issuance never reads them.
    pub servers: Vec<ServerRow>,
    pub clients: Vec<ClientRow>,
    pub keys: Vec<KeyRow>,
    /// `seq` of the newest audit event when the rows were read.
    pub audit_head: i64,
}

/// A visitor of what a read covers (see [`Walk`]).
pub type Listed<'a> = &'a mut (dyn FnMut(Walk<'_>) + Send);

/// A batch of issuance events with their rate checks, as the group commit receives them.
pub type Jobs = Vec<(NewAuditEvent, Option<RateCheck>)>;

/// The windows a batch's rate checks need: every distinct `(client, since)` asked for.
pub fn windows_needed(jobs: &Jobs) -> Vec<(String, i64)> {
    let mut keys: Vec<(String, i64)> = jobs.iter().filter_map(|(_, r)| r.as_ref().map(|r| (r.client.clone(), r.since))).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// How long [`RateWindows`] remembers an allowed issuance: twice the rate window (a minute),
/// so that a window asked for by an issuer whose clock is a little behind is still whole.
pub const RATE_MEMORY_SECS: i64 = 120;

/// Allowed issuances per client and second, as the one writer of a log sees them: those it
/// appends, and those other processes appended, read back by `seq` before each of its batches.
/// With it the group commit counts a client's window without an index of the log by client —
/// an index every issuance paid for (BENCHMARKS.md, seventh pass). It knows every allowed
/// issuance at or after its horizon ([`RATE_MEMORY_SECS`] before the newest it counted); a
/// window that starts earlier is not known (`None`) and is counted by the database.
#[derive(Debug, Default)]
pub struct RateWindows {
    /// Per client: allowed issuances per second (`at`).
    per_client: HashMap<String, BTreeMap<i64, u32>>,
    /// Every allowed issuance at or after this instant is counted here (none before `start`).
    horizon: Option<i64>,
    /// The newest instant added.
    newest: i64,
    /// `seq` of the last event accounted for (ours or another process's).
    pub seen: i64,
}

impl RateWindows {
    /// Start knowing every allowed issuance at or after `horizon`, up to the log's event `seen`
    /// (the caller adds those of the log it read, with [`RateWindows::add`]).
    pub fn start(&mut self, horizon: i64, seen: i64) {
        self.per_client.clear();
        self.horizon = Some(horizon);
        self.newest = horizon;
        self.seen = seen;
    }

    /// Whether [`RateWindows::start`] has been called.
    pub fn started(&self) -> bool {
        self.horizon.is_some()
    }

    /// Count one allowed issuance of `client` at `at`.
    pub fn add(&mut self, client: &str, at: i64) {
        let Some(horizon) = self.horizon else { return };
        if at < horizon {
            return;
        }
        // No allocation for a client already counted (nearly every issuance).
        match self.per_client.get_mut(client) {
            Some(seconds) => *seconds.entry(at).or_default() += 1,
            None => {
                self.per_client.insert(client.to_owned(), BTreeMap::from([(at, 1)]));
            }
        }
        if at > self.newest {
            self.newest = at;
            self.forget_before(at - RATE_MEMORY_SECS);
        }
    }

    /// The allowed issuances of `client` at or after `since` (how many, and the earliest), or
    /// `None` when the window starts before what is remembered.
    pub fn window(&self, client: &str, since: i64) -> Option<(u32, Option<i64>)> {
        if self.horizon.is_none_or(|h| since < h) {
            return None;
        }
        let Some(seconds) = self.per_client.get(client) else { return Some((0, None)) };
        let mut counted = seconds.range(since..);
        let oldest = counted.next().map(|(at, n)| (*at, *n));
        let n = oldest.map_or(0, |(_, n)| n) + counted.map(|(_, n)| n).sum::<u32>();
        Some((n, oldest.map(|(at, _)| at)))
    }

    /// Forget the issuances before `instant` (once a second at most: the newest instant moved).
    fn forget_before(&mut self, instant: i64) {
        if self.horizon.is_some_and(|h| h >= instant) {
            return;
        }
        self.horizon = Some(instant);
        self.per_client.retain(|_, seconds| {
            *seconds = seconds.split_off(&instant);
            !seconds.is_empty()
        });
    }
}

/// A batch split into what is appended (in order) and, per job, `None` (appended) or the
/// window that refused it.
#[derive(Debug, Default)]
pub struct Plan {
    pub accepted: Vec<NewAuditEvent>,
    outcomes: Vec<Option<(u32, Option<i64>)>>,
}

impl Plan {
    /// Each job's outcome, given the `seq`s the accepted events were appended at.
    pub fn outcomes(self, seqs: Vec<i64>) -> Vec<Recorded> {
        let mut seqs = seqs.into_iter();
        self.outcomes.into_iter().map(|o| o.map_or_else(|| Ok(seqs.next().unwrap_or_default()), Err)).collect()
    }
}

/// Decide a batch: an event with a rate check is left out (its slot gets the client's window)
/// when the client's allowed issuances since `since` — those committed (`windows`, read under
/// the writers' lock) plus those accepted earlier in this batch — reach the limit.
pub fn plan_batch(jobs: Jobs, windows: &HashMap<(String, i64), (u32, Option<i64>)>) -> Plan {
    let mut plan = Plan { accepted: Vec::with_capacity(jobs.len()), outcomes: Vec::with_capacity(jobs.len()) };
    // Allowed issuances accepted so far in this batch, per client: their instants.
    let mut in_batch: HashMap<String, Vec<i64>> = HashMap::new();
    for (event, rate) in jobs {
        if let Some(r) = &rate {
            let (mut n, mut oldest) = windows.get(&(r.client.clone(), r.since)).copied().unwrap_or((0, None));
            for at in in_batch.get(&r.client).into_iter().flatten().filter(|at| **at >= r.since) {
                n += 1;
                oldest = Some(oldest.map_or(*at, |o| o.min(*at)));
            }
            if n >= r.limit {
                plan.outcomes.push(Some((n, oldest)));
                continue;
            }
        }
        if event.action == "issue" && event.decision == Some(Decision::Allow) {
            in_batch.entry(event.actor.clone()).or_default().push(event.at);
        }
        plan.outcomes.push(None);
        plan.accepted.push(event);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(client: &str, at: i64) -> NewAuditEvent {
        NewAuditEvent::new(at, client, "issue", "s@1").decision(Decision::Allow, None)
    }

    fn check(client: &str, since: i64, limit: u32) -> Option<RateCheck> {
        Some(RateCheck { client: client.into(), since, limit })
    }

    #[test]
    fn a_batch_counts_its_own_issuances_against_the_committed_window() {
        let jobs: Jobs = vec![
            (allow("a", 100), check("a", 41, 3)),
            (allow("b", 100), check("b", 41, 1)),
            (allow("a", 101), check("a", 42, 3)),
            (allow("a", 102), check("a", 43, 3)),
            (allow("c", 102), None),
        ];
        assert_eq!(windows_needed(&jobs), vec![("a".into(), 41), ("a".into(), 42), ("a".into(), 43), ("b".into(), 41)]);
        let mut windows = HashMap::new();
        // One committed issuance of `a` at 90 in every window; `b` has used its one.
        for since in [41, 42, 43] {
            windows.insert(("a".to_owned(), since), (1, Some(90)));
        }
        windows.insert(("b".to_owned(), 41), (1, Some(80)));
        let plan = plan_batch(jobs, &windows);
        assert_eq!(plan.accepted.len(), 3, "a twice (1 + 2 = 3), c without a check");
        let out = plan.outcomes(vec![7, 8, 9]);
        assert_eq!(out, vec![Ok(7), Err((1, Some(80))), Ok(8), Err((3, Some(90))), Ok(9)]);
    }

    #[test]
    fn changed_names_come_from_the_targets_of_the_events() {
        let scope = Scope::of_changes(["io.github.a/x@1.0.0", "io.github.a/x", "bot", "io.github.b/y@2"]);
        let names: BTreeSet<String> = ["bot", "io.github.a/x", "io.github.b/y"].into_iter().map(String::from).collect();
        assert_eq!(scope, Scope::Names(names));
        assert!(Scope::of_changes([]).is_nothing(), "no event since the last read: no server to read again");
        let many: Vec<String> = (0..=MAX_CHANGED_NAMES).map(|i| format!("n/{i}")).collect();
        assert_eq!(Scope::of_changes(many.iter().map(String::as_str)), Scope::All);
    }

    #[test]
    fn rate_windows_count_what_they_remember_and_nothing_before() {
        let mut w = RateWindows::default();
        assert_eq!(w.window("a", 0), None, "before it starts it knows nothing");
        w.add("a", 5);
        assert_eq!(w.window("a", 0), None);
        w.start(100, 7);
        assert!(w.started());
        assert_eq!(w.seen, 7);
        w.add("a", 99); // before the horizon: not counted
        for at in [100, 100, 130, 159] {
            w.add("a", at);
        }
        w.add("b", 150);
        assert_eq!(w.window("a", 100), Some((4, Some(100))));
        assert_eq!(w.window("a", 101), Some((2, Some(130))));
        assert_eq!(w.window("a", 160), Some((0, None)));
        assert_eq!(w.window("c", 120), Some((0, None)), "a client never seen has issued nothing");
        assert_eq!(w.window("a", 99), None, "a window older than the horizon is the database's");
        // Time moves on: what is older than RATE_MEMORY_SECS before the newest is forgotten.
        w.add("b", 100 + RATE_MEMORY_SECS + 31);
        assert_eq!(w.window("a", 130), None, "forgotten up to 131");
        assert_eq!(w.window("a", 131), Some((1, Some(159))));
        assert_eq!(w.window("b", 131), Some((2, Some(150))));
        // An issuance that arrives late (an issuer's clock behind) still counts.
        w.add("a", 140);
        assert_eq!(w.window("a", 131), Some((2, Some(140))));
        w.add("a", 1_000);
        assert_eq!(w.window("b", 1_000 - RATE_MEMORY_SECS), Some((0, None)), "clients with nothing left are dropped");
        assert_eq!(w.per_client.len(), 1);
    }

    #[test]
    fn denials_in_a_batch_do_not_use_up_the_rate() {
        let deny = NewAuditEvent::new(100, "a", "issue", "s@1").decision(Decision::Deny, Some("server_suspended"));
        let jobs: Jobs = vec![(deny, None), (allow("a", 100), check("a", 41, 1))];
        let out = plan_batch(jobs, &HashMap::new()).outcomes(vec![1, 2]);
        assert_eq!(out, vec![Ok(1), Ok(2)]);
    }
}
