//! The isolation matrix: EVERY operation in the OpenAPI document, called by every kind
//! of caller, gives the documented outcome. The operations are read from the served
//! document, so a new route without a row in `expectation` fails this test.
//!
//! Outcomes: `allowed` means the call passed authentication and authorization (any
//! status but 401, 403 and 404: a 422 or 428 from validation after the check counts);
//! `forbidden` is 403 (the caller sees the object, their role is too weak); `hidden`
//! is 404 (another account's object, or a project the caller has no role in); and
//! anonymous callers always get 401.

use reqwest::Method;
use sluice_tests::TestApp;

use expectations::{
    expectation, outcome_for, outcome_for_narrowed, Expect, CALLERS, PROJECT_ROLES,
};
use fixture::{call, fixture, narrowed};

mod expectations;
mod fixture;

fn classify(status: u16) -> &'static str {
    match status {
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "hidden",
        _ => "allowed",
    }
}

// One loop over every operation and every caller, collecting every difference before failing, so it reads top to bottom.
#[tokio::test]
async fn every_operation_gives_every_caller_the_documented_outcome() {
    // Mutations get fresh projects, more than the product's 20.
    let app = TestApp::spawn_with(|c| {
        for limits in c.plans.values_mut() {
            limits.projects_per_account = 100_000;
        }
    })
    .await;
    let owner = app.account("A").await;
    let mallory = app.account("B").await;
    let anonymous = app.anonymous();
    let mut clients = Vec::new();
    for (i, caller) in CALLERS.iter().enumerate() {
        let client = if i == 0 {
            owner.clone()
        } else {
            app.member(&owner, caller.account_role, None, false).await
        };
        clients.push((i, client));
    }
    let mut operations = Vec::new();
    for (method, path, id) in app.documented_operations().await {
        let expect = expectation(&id)
            .unwrap_or_else(|| panic!("{method} {path} ({id}) is missing from the matrix"));
        operations.push((method, path, id, expect));
    }
    assert!(
        operations.len() >= 50,
        "only {} operations found",
        operations.len()
    );

    let mut n = 0;
    let mut failures = Vec::new();
    let shared = fixture(&app, &owner, &clients, n).await;
    let mut narrowed_on_shared = Vec::new();
    for role in PROJECT_ROLES {
        n += 1;
        narrowed_on_shared.push((role, narrowed(&owner, &shared.project, role, n).await));
    }
    for (method, path, id, expect) in &operations {
        let mutating = *method != Method::GET;
        // Anonymous and another account's owner first: they must change nothing.
        n += 1;
        let res = call(&anonymous, method, id, path, &shared, n).await;
        let want = if matches!(expect, Expect::Public) {
            "any"
        } else {
            "unauthenticated"
        };
        if want != "any" && classify(res.status.as_u16()) != want {
            failures.push(format!(
                "{method} {path}: anonymous got {} ({}), expected {want}",
                res.status, res.body
            ));
        }
        n += 1;
        let res = call(&mallory, method, id, path, &shared, n).await;
        // Another account's owner acts in their own account; with A's ids in the path, nothing is found.
        // Path ids, or a body naming one of A's objects, make it A's business.
        // An engine version's label is the platform's, not an object of A's.
        let has_ids = (path.contains('{') && !path.contains("{label}"))
            || matches!(id.as_str(), "preview_order" | "place_order");
        let want = match expect {
            Expect::Public => "any",
            Expect::Operator => "forbidden",
            _ if has_ids => "hidden",
            _ => "allowed",
        };
        if want != "any" && classify(res.status.as_u16()) != want {
            failures.push(format!(
                "{method} {path}: another account's owner got {} ({}), expected {want}",
                res.status, res.body
            ));
        }
        for (i, client) in &clients {
            let caller = &CALLERS[*i];
            n += 1;
            // A mutation that succeeds may consume its objects: give it fresh ones.
            let fresh;
            let f = if mutating && outcome_for(caller, *expect) == "allowed" {
                fresh = fixture(&app, &owner, &clients, n).await;
                &fresh
            } else {
                &shared
            };
            let res = call(client, method, id, path, f, n).await;
            let want = outcome_for(caller, *expect);
            if want != "any" && classify(res.status.as_u16()) != want {
                failures.push(format!(
                    "{method} {path}: {} got {} ({}), expected {want}",
                    caller.name, res.status, res.body
                ));
            }
        }
        // The owner's own tokens narrowed to the project: every role, every operation.
        for (role, on_shared) in &narrowed_on_shared {
            n += 1;
            let want = outcome_for_narrowed(role, id, *expect);
            let (f, client);
            let (f, client) = if mutating && want == "allowed" {
                f = fixture(&app, &owner, &clients, n).await;
                client = narrowed(&owner, &f.project, role, n).await;
                (&f, &client)
            } else {
                (&shared, on_shared)
            };
            let res = call(client, method, id, path, f, n).await;
            if want != "any" && classify(res.status.as_u16()) != want {
                failures.push(format!(
                    "{method} {path}: the owner's token narrowed to the project as {role} got {} ({}), expected {want}",
                    res.status, res.body
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} outcomes differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
