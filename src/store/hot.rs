//! What the issuance hot path of `mcpca serve` needs from any backend, whatever the engine:
//! the rows issuance decides on, read as of one instant ([`HotRows`]), and the group commit's
//! plan — which events of a batch go in and which are refused because their client's rate is
//! used up ([`plan_batch`]). The engines (`sqlite::hot`, `postgres::hot`) read and write; the
//! decisions are made here once, so both count a batch the same way.

use std::collections::{BTreeSet, HashMap};

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
    fn denials_in_a_batch_do_not_use_up_the_rate() {
        let deny = NewAuditEvent::new(100, "a", "issue", "s@1").decision(Decision::Deny, Some("server_suspended"));
        let jobs: Jobs = vec![(deny, None), (allow("a", 100), check("a", 41, 1))];
        let out = plan_batch(jobs, &HashMap::new()).outcomes(vec![1, 2]);
        assert_eq!(out, vec![Ok(1), Ok(2)]);
    }
}
