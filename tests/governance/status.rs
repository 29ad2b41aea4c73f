//! The status model: per-name and per-version statuses with reason and time, every transition
//! between the five statuses and its effect on issuance, `is_latest`, and hiding deleted entries.

use serde_json::Value;

use crate::util::*;

const NAME: &str = "io.github.acme/weather";

const STATUSES: [&str; 5] = ["active", "deprecated", "suspended", "revoked", "deleted"];

/// The command that moves `target` (NAME or NAME@VERSION) to `status`.
fn move_to(h: &Home, target: &str, status: &str, reason: &str) -> Output {
    let args: Vec<&str> = match status {
        "active" => vec!["server", "resume", target, "--reason", reason],
        "deprecated" => vec!["server", "deprecate", target, "--reason", reason],
        "suspended" => vec!["server", "suspend", target, "--reason", reason],
        "revoked" => vec!["revoke", target, "--reason", reason],
        "deleted" => vec!["server", "remove", target, "--reason", reason],
        _ => unreachable!(),
    };
    h.cmd(args)
}

/// The deny code issuance gives for a status (`None`: issued).
fn issuance(status: &str) -> Option<&'static str> {
    match status {
        "active" | "deprecated" => None,
        "suspended" => Some("policy_blocked"),
        _ => Some("server_revoked"),
    }
}

#[track_caller]
fn check_issuance(h: &Home, server: &str, status: &str) {
    match issuance(status) {
        None => {
            let env = h.issue_json(server, &[]);
            assert_eq!(env["server"]["id"], server.split('@').next().unwrap());
        }
        Some(code) => {
            h.try_issue(server, &[]).denied(code);
        }
    }
}

#[test]
fn every_transition_between_the_five_statuses_and_its_effect_on_issuance() {
    let h = Home::init();
    h.add_server(NAME, &[]);
    // An Eulerian circuit of the complete directed graph on the five statuses: every ordered
    // pair (from, to) exactly once.
    let path = [0, 1, 0, 2, 0, 3, 0, 4, 1, 2, 1, 3, 1, 4, 2, 3, 2, 4, 3, 4, 0];
    let mut seen = std::collections::BTreeSet::new();
    for (step, pair) in path.windows(2).enumerate() {
        let (from, to) = (STATUSES[pair[0]], STATUSES[pair[1]]);
        assert!(seen.insert((from, to)));
        let t = T0 + 100 * (step as i64 + 1);
        h.set_now(t);
        let reason = format!("step {step}: {from} to {to}");
        move_to(&h, NAME, to, &reason).success();

        let shown = h.show(NAME);
        let a = &shown["authority"];
        assert_eq!(a["status"], to, "{from} → {to}: {shown}");
        assert_eq!(a["name_status"], to, "{from} → {to}");
        assert_eq!(a["version_status"], "active", "{from} → {to}");
        assert_eq!(a["status_reason"], reason.as_str(), "{from} → {to}");
        assert_eq!(a["status_changed_at"], rfc3339(t), "{from} → {to}");
        assert_eq!(a["is_latest"], to != "deleted", "{from} → {to}");
        check_issuance(&h, NAME, to);
        check_issuance(&h, &format!("{NAME}@1.0.0"), to);

        // Lists hide deleted servers unless asked.
        let listed = h.server_refs(&[]);
        assert_eq!(listed.contains(&format!("{NAME}@1.0.0")), to != "deleted", "{from} → {to}: {listed:?}");
        assert!(h.server_refs(&["--include-deleted"]).contains(&format!("{NAME}@1.0.0")));
        assert_eq!(h.server_refs(&["--status", to, "--include-deleted"]), [format!("{NAME}@1.0.0")], "{to}");

        // Each change is an audit event.
        let e = h.audit(&["--server", NAME]).into_iter().rev().find(|e| e["action"] != "issue").unwrap();
        assert_eq!(e["action"], format!("server.{to}"), "{e}");
        assert_eq!(e["target"], NAME);
        assert_eq!(e["at"], t);
        assert_eq!(e["details"]["reason"], reason.as_str());
    }
    assert_eq!(seen.len(), 20);
}

#[test]
fn name_and_version_statuses_combine_to_the_more_severe() {
    let h = Home::init();
    h.add_server(NAME, &[]);
    let d2 = doc(NAME, "2.0.0");
    h.set_now(T0 + 1);
    h.add_doc(&d2).success();

    // A version status leaves the other versions alone.
    h.set_now(T0 + 10);
    h.cmd(["server", "deprecate", &format!("{NAME}@1.0.0"), "--reason", "use 2.x"]).success();
    let v1 = h.show(&format!("{NAME}@1.0.0"));
    let a = &v1["authority"];
    assert_eq!(
        (a["status"].as_str(), a["name_status"].as_str(), a["version_status"].as_str()),
        (Some("deprecated"), Some("active"), Some("deprecated"))
    );
    assert_eq!(a["status_reason"], "use 2.x");
    assert_eq!(a["status_changed_at"], rfc3339(T0 + 10));
    assert_eq!(h.show(&format!("{NAME}@2.0.0"))["authority"]["status"], "active");
    check_issuance(&h, &format!("{NAME}@1.0.0"), "deprecated");

    h.set_now(T0 + 20);
    h.cmd(["server", "suspend", &format!("{NAME}@2.0.0"), "--reason", "bad build"]).success();
    check_issuance(&h, &format!("{NAME}@2.0.0"), "suspended");
    // The latest version (2.0.0) is suspended: asking by name gets that version's answer.
    check_issuance(&h, NAME, "suspended");
    check_issuance(&h, &format!("{NAME}@1.0.0"), "deprecated");

    // A name status covers every version, with its own reason and time …
    h.set_now(T0 + 30);
    h.cmd(["server", "suspend", NAME, "--reason", "incident"]).success();
    let a = h.show(&format!("{NAME}@1.0.0"))["authority"].clone();
    assert_eq!(
        (a["status"].as_str(), a["name_status"].as_str(), a["version_status"].as_str()),
        (Some("suspended"), Some("suspended"), Some("deprecated"))
    );
    assert_eq!(a["status_reason"], "incident");
    assert_eq!(a["status_changed_at"], rfc3339(T0 + 30));
    check_issuance(&h, &format!("{NAME}@1.0.0"), "suspended");

    // … a revoked version stays revoked under a suspended name (the more severe wins) …
    h.set_now(T0 + 40);
    h.cmd(["revoke", &format!("{NAME}@2.0.0"), "--reason", "compromised"]).success();
    let a = h.show(&format!("{NAME}@2.0.0"))["authority"].clone();
    assert_eq!(
        (a["status"].as_str(), a["name_status"].as_str(), a["version_status"].as_str()),
        (Some("revoked"), Some("suspended"), Some("revoked"))
    );
    assert_eq!(a["status_reason"], "compromised");
    assert_eq!(a["status_changed_at"], rfc3339(T0 + 40));
    check_issuance(&h, &format!("{NAME}@2.0.0"), "revoked");

    // … and resuming the name brings back each version's own status.
    h.set_now(T0 + 50);
    h.cmd(["server", "resume", NAME]).success();
    check_issuance(&h, &format!("{NAME}@1.0.0"), "deprecated");
    check_issuance(&h, &format!("{NAME}@2.0.0"), "revoked");
    let a = h.show(&format!("{NAME}@1.0.0"))["authority"].clone();
    assert_eq!((a["status"].as_str(), a["name_status"].as_str()), (Some("deprecated"), Some("active")));
    assert_eq!(a["status_reason"], "use 2.x");

    // The versions list of `server show` has each version's status in force.
    let shown = h.show(NAME);
    let versions: Vec<(String, String)> = shown["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_str().unwrap().to_owned(), v["status"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(versions, [("1.0.0".to_owned(), "deprecated".to_owned()), ("2.0.0".to_owned(), "revoked".to_owned())]);

    // Unknown targets are refused and change nothing.
    h.cmd(["server", "suspend", "io.github.acme/nope"]).fails(2).no_stdout().stderr_has(&["not found"]);
    h.cmd(["server", "suspend", &format!("{NAME}@9.9.9")]).fails(2).no_stdout().stderr_has(&["not found"]);
}

fn latest(h: &Home) -> String {
    let shown = h.show(NAME);
    assert_eq!(shown["authority"]["is_latest"], true, "{shown}");
    let flagged: Vec<&Value> = shown["versions"].as_array().unwrap().iter().filter(|v| v["is_latest"] == true).collect();
    assert_eq!(flagged.len(), 1, "exactly one latest version: {shown}");
    assert_eq!(flagged[0]["version"], shown["server"]["version"]);
    let listed = h.server_refs(&["--latest"]);
    let v = shown["server"]["version"].as_str().unwrap().to_owned();
    assert_eq!(listed, [format!("{NAME}@{v}")]);
    // Issuing by name uses the latest version.
    if shown["authority"]["status"] == "active" {
        assert_eq!(h.issue_json(NAME, &[])["server"]["version"], v.as_str());
    }
    v
}

#[test]
fn is_latest_is_the_highest_non_deleted_version_in_semver_order() {
    let h = Home::init();
    for (i, v) in ["1.9.0", "1.10.0", "1.2.0"].iter().enumerate() {
        h.set_now(T0 + i as i64);
        h.add_doc(&doc(NAME, v)).success();
    }
    assert_eq!(latest(&h), "1.10.0");
    h.set_now(T0 + 10);
    h.cmd(["server", "remove", &format!("{NAME}@1.10.0")]).success();
    assert_eq!(latest(&h), "1.9.0");
    assert!(!h.server_refs(&[]).contains(&format!("{NAME}@1.10.0")));
    assert!(h.server_refs(&["--include-deleted"]).contains(&format!("{NAME}@1.10.0")));
    // A deleted version is still shown when asked by name@version, and says so.
    assert_eq!(h.show(&format!("{NAME}@1.10.0"))["authority"]["status"], "deleted");
    // Suspending or revoking does not move `latest`; only deletion does.
    h.cmd(["server", "suspend", &format!("{NAME}@1.9.0")]).success();
    assert_eq!(latest(&h), "1.9.0");
    h.cmd(["server", "resume", &format!("{NAME}@1.9.0")]).success();
    // A pre-release of a higher version is higher; a new patch is recomputed at once.
    h.add_doc(&doc(NAME, "1.9.1")).success();
    assert_eq!(latest(&h), "1.9.1");
    h.add_doc(&doc(NAME, "2.0.0-rc.1")).success();
    assert_eq!(latest(&h), "2.0.0-rc.1");
    h.add_doc(&doc(NAME, "2.0.0")).success();
    assert_eq!(latest(&h), "2.0.0");
    // Undeleting brings a version back into the running.
    h.cmd(["server", "remove", &format!("{NAME}@2.0.0")]).success();
    h.cmd(["server", "remove", &format!("{NAME}@2.0.0-rc.1")]).success();
    assert_eq!(latest(&h), "1.9.1");
    h.cmd(["server", "resume", &format!("{NAME}@2.0.0")]).success();
    assert_eq!(latest(&h), "2.0.0");

    // Deleting the name hides every version and leaves none latest.
    h.cmd(["server", "remove", NAME]).success();
    assert!(h.server_refs(&[]).is_empty());
    assert!(h.server_refs(&["--latest"]).is_empty());
    assert_eq!(h.server_refs(&["--include-deleted"]).len(), 6);
    let shown = h.cmd(["server", "show", NAME, "-o", "json"]).success().json();
    assert!(shown["versions"].as_array().unwrap().iter().all(|v| v["is_latest"] == false && v["status"] == "deleted"), "{shown}");
    h.cmd(["server", "resume", NAME]).success();
    assert_eq!(latest(&h), "2.0.0");
}

#[test]
fn non_semver_versions_are_ordered_by_publication_time() {
    let h = Home::init();
    // Published later, though lower in every lexical or numeric reading.
    for (t, v) in [(T0 + 100, "2025-06"), (T0 + 200, "2024-01"), (T0 + 300, "build-a")] {
        h.set_now(t);
        h.add_doc(&doc(NAME, v)).success();
    }
    assert_eq!(latest(&h), "build-a");
    h.set_now(T0 + 400);
    h.cmd(["server", "remove", &format!("{NAME}@build-a")]).success();
    assert_eq!(latest(&h), "2024-01");
    h.cmd(["server", "remove", &format!("{NAME}@2024-01")]).success();
    assert_eq!(latest(&h), "2025-06");
    // A semantic version ranks above non-semantic ones, whenever published.
    h.cmd(["server", "resume", &format!("{NAME}@build-a")]).success();
    h.set_now(T0 + 500);
    h.add_doc(&doc(NAME, "0.0.1")).success();
    assert_eq!(latest(&h), "0.0.1");
}
