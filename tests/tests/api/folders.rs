use sluice_tests::{json, some, Expect, TestApp};

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
    let error = owner
        .api()
        .create_folder()
        .project_id(&project)
        .body_map(|b| b.name("level6").parent_id(parent))
        .send()
        .await
        .expect_error(409, "limit_exceeded", Some("folder_depth"));
    assert_eq!(error.limit, Some(5));
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
    let api = owner.api();
    let project = owner.project("p").await;
    let a = owner.folder(&project, "a", None).await;
    let b = owner.folder(&project, "b", Some(&a)).await;
    let c = owner.folder(&project, "c", Some(&b)).await;
    let move_a_under = |parent: &str| {
        api.update_folder()
            .project_id(&project)
            .folder_id(&a)
            .body_map(|body| body.parent_id(Some(parent.to_owned())))
            .send()
    };
    move_a_under(&c)
        .await
        .expect_error(422, "invalid_field", Some("parent_id"));
    move_a_under(&a)
        .await
        .expect_error(422, "invalid_field", Some("parent_id"));
    let unchanged = api
        .get_folder()
        .project_id(&project)
        .folder_id(&a)
        .send()
        .await
        .expect_status(200);
    assert!(unchanged.parent_id.is_none());

    // Moving c to the root and then b under c is fine: no cycle. (An explicit null, the
    // move to the root, is sent by hand: the typed client leaves absent fields out.)
    let moved = owner
        .patch(
            &format!("/projects/{project}/folders/{c}"),
            json!({ "parent_id": null }),
        )
        .await
        .expect(200);
    assert!(moved.body["parent_id"].is_null());
    let moved = api
        .update_folder()
        .project_id(&project)
        .folder_id(&b)
        .body_map(|body| body.parent_id(Some(c.clone())).name(some("b2")))
        .send()
        .await
        .expect_status(200);
    assert_eq!(moved.parent_id.as_deref(), Some(c.as_str()));
    assert_eq!(moved.name, "b2");
}

#[tokio::test]
async fn a_move_that_would_nest_the_subtree_too_deep_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let api = owner.api();
    let project = owner.project("p").await;
    // A chain of three (x > y > z) and a chain of three (a > b > c): c's depth 3 plus the
    // moved subtree's height 3 would be 6.
    let x = owner.folder(&project, "x", None).await;
    let y = owner.folder(&project, "y", Some(&x)).await;
    owner.folder(&project, "z", Some(&y)).await;
    let a = owner.folder(&project, "a", None).await;
    let b = owner.folder(&project, "b", Some(&a)).await;
    let c = owner.folder(&project, "c", Some(&b)).await;
    let move_x_under = |parent: &str| {
        api.update_folder()
            .project_id(&project)
            .folder_id(&x)
            .body_map(|body| body.parent_id(Some(parent.to_owned())))
            .send()
    };
    move_x_under(&c)
        .await
        .expect_error(409, "limit_exceeded", Some("folder_depth"));
    move_x_under(&b).await.expect_status(200);
}

#[tokio::test]
async fn folder_names_are_unique_per_parent_and_folders_must_be_empty_to_delete() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let api = owner.api();
    let project = owner.project("p").await;
    let a = owner.folder(&project, "a", None).await;
    api.create_folder()
        .project_id(&project)
        .body_map(|b| b.name("a"))
        .send()
        .await
        .expect_error(409, "already_exists", Some("name"));
    let inner = owner.folder(&project, "a", Some(&a)).await; // same name, other parent
    let delete = |folder: &str| {
        api.delete_folder()
            .project_id(&project)
            .folder_id(folder)
            .send()
    };
    delete(&a).await.expect_error(409, "folder_not_empty", None);
    delete(&inner).await.expect_status(204);
    delete(&a).await.expect_status(204);
    api.get_folder()
        .project_id(&project)
        .folder_id(&a)
        .send()
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
        .api()
        .create_folder()
        .project_id(&p1)
        .body_map(|b| b.name("x").parent_id(Some(foreign)))
        .send()
        .await
        .expect_error(422, "invalid_field", Some("parent_id"));
    assert!(owner
        .list_all(&format!("/projects/{p1}/folders"), 50)
        .await
        .is_empty());
}
