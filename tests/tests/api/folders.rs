use sluice_tests::{json, TestApp};

#[tokio::test]
async fn folders_nest_five_deep_and_no_deeper() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let mut parent: Option<String> = None;
    for depth in 1..=5 {
        parent = Some(
            owner
                .folder(&project, &format!("level{depth}"), parent.as_deref())
                .await,
        );
    }
    let res = owner
        .post(
            &format!("/projects/{project}/folders"),
            json!({ "name": "level6", "parent_id": parent }),
        )
        .await
        .expect_error(409, "limit_exceeded", Some("folder_depth"));
    assert_eq!(res.body["error"]["limit"], 5);
    assert_eq!(
        owner
            .list_all(&format!("/projects/{project}/folders"), 50)
            .await
            .len(),
        5
    );
}

#[tokio::test]
async fn a_folder_cannot_move_into_itself_or_its_subtree() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let a = owner.folder(&project, "a", None).await;
    let b = owner.folder(&project, "b", Some(&a)).await;
    let c = owner.folder(&project, "c", Some(&b)).await;
    owner
        .patch(
            &format!("/projects/{project}/folders/{a}"),
            json!({ "parent_id": c }),
        )
        .await
        .expect_error(422, "invalid_field", Some("parent_id"));
    owner
        .patch(
            &format!("/projects/{project}/folders/{a}"),
            json!({ "parent_id": a }),
        )
        .await
        .expect_error(422, "invalid_field", Some("parent_id"));
    let unchanged = owner
        .get(&format!("/projects/{project}/folders/{a}"))
        .await
        .expect(200);
    assert!(unchanged.body["parent_id"].is_null());

    // Moving c to the root and then b under c is fine: no cycle.
    let moved = owner
        .patch(
            &format!("/projects/{project}/folders/{c}"),
            json!({ "parent_id": null }),
        )
        .await
        .expect(200);
    assert!(moved.body["parent_id"].is_null());
    let moved = owner
        .patch(
            &format!("/projects/{project}/folders/{b}"),
            json!({ "parent_id": c, "name": "b2" }),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["parent_id"], c.as_str());
    assert_eq!(moved.body["name"], "b2");
}

#[tokio::test]
async fn a_move_that_would_nest_the_subtree_too_deep_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    // A chain of three (x > y > z) and a chain of three (a > b > c): c's depth 3 plus the
    // moved subtree's height 3 would be 6.
    let x = owner.folder(&project, "x", None).await;
    let y = owner.folder(&project, "y", Some(&x)).await;
    owner.folder(&project, "z", Some(&y)).await;
    let a = owner.folder(&project, "a", None).await;
    let b = owner.folder(&project, "b", Some(&a)).await;
    let c = owner.folder(&project, "c", Some(&b)).await;
    owner
        .patch(
            &format!("/projects/{project}/folders/{x}"),
            json!({ "parent_id": c }),
        )
        .await
        .expect_error(409, "limit_exceeded", Some("folder_depth"));
    owner
        .patch(
            &format!("/projects/{project}/folders/{x}"),
            json!({ "parent_id": b }),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn folder_names_are_unique_per_parent_and_folders_must_be_empty_to_delete() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let a = owner.folder(&project, "a", None).await;
    owner
        .post(
            &format!("/projects/{project}/folders"),
            json!({ "name": "a" }),
        )
        .await
        .expect_error(409, "already_exists", Some("name"));
    let inner = owner.folder(&project, "a", Some(&a)).await; // same name, other parent
    owner
        .delete(&format!("/projects/{project}/folders/{a}"))
        .await
        .expect_error(409, "folder_not_empty", None);
    owner
        .delete(&format!("/projects/{project}/folders/{inner}"))
        .await
        .expect(204);
    owner
        .delete(&format!("/projects/{project}/folders/{a}"))
        .await
        .expect(204);
    owner
        .get(&format!("/projects/{project}/folders/{a}"))
        .await
        .expect_error(404, "not_found", None);
}

#[tokio::test]
async fn a_parent_from_another_project_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let p1 = owner.project("p1").await;
    let p2 = owner.project("p2").await;
    let foreign = owner.folder(&p2, "f", None).await;
    owner
        .post(
            &format!("/projects/{p1}/folders"),
            json!({ "name": "x", "parent_id": foreign }),
        )
        .await
        .expect_error(422, "invalid_field", Some("parent_id"));
    assert!(owner
        .list_all(&format!("/projects/{p1}/folders"), 50)
        .await
        .is_empty());
}
