//! Sign-in through a real OpenID Connect provider (`oidc-provider`), driven over HTTP
//! as a browser would: authorize, log in, callback, session cookies, /me, refresh,
//! logout (at the provider too); and the attacks a callback must survive.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sluice_tests::idp::{free_port, issuer_for, Browser, DevIdp, CLIENT_ID, CLIENT_SECRET};
use sluice_tests::TestApp;

struct World {
    app: TestApp,
    idp: DevIdp,
}

async fn world_with(jwks: Option<&std::path::Path>) -> World {
    world_tuned(jwks, |_| {}).await
}

/// A world whose keys may be refetched at most every `secs` seconds.
async fn world_refetching_keys_every(jwks: Option<&std::path::Path>, secs: u64) -> World {
    world_tuned(jwks, |c| c.auth.oidc.jwks_min_refetch_secs = secs).await
}

/// A world whose sign-in configuration `tune` adjusts.
async fn world_tuned(
    jwks: Option<&std::path::Path>,
    tune: impl FnOnce(&mut gateway::Config),
) -> World {
    let idp_port = free_port();
    let app = TestApp::spawn_with(|c| {
        c.auth.oidc.issuer_url = issuer_for(idp_port);
        c.auth.oidc.client_id = CLIENT_ID.to_owned();
        c.auth.oidc.client_secret = CLIENT_SECRET.to_owned();
        c.auth.oidc.jwks_min_refetch_secs = 0;
        tune(c);
    })
    .await;
    let idp = DevIdp::start(idp_port, &callback_url(&app), jwks).await;
    World { app, idp }
}

fn callback_url(app: &TestApp) -> String {
    format!("{}/api/v1/auth/callback", app.base)
}

/// Starts a sign-in at Sluice and returns the provider URL it redirects to.
async fn start(app: &TestApp, browser: &mut Browser) -> String {
    let step = browser
        .get(&format!(
            "{}/api/v1/auth/login?return_to=/projects",
            app.base
        ))
        .await;
    assert_eq!(step.status, StatusCode::SEE_OTHER, "{}", step.body);
    let url = step.location.expect("to the provider");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    url
}

/// The whole sign-in for `login`; returns the browser holding Sluice's cookies.
async fn sign_in(world: &World, login: &str) -> Browser {
    let mut browser = Browser::new();
    let authorize = start(&world.app, &mut browser).await;
    let callback = browser.sign_in_at_provider(&authorize, login).await;
    let landed = browser.get(&callback).await;
    assert_eq!(
        landed.status,
        StatusCode::SEE_OTHER,
        "callback: {}",
        landed.body
    );
    assert_eq!(landed.location.as_deref(), Some("/projects"));
    let access = landed
        .set_cookies
        .iter()
        .find(|c| c.starts_with("sluice_access="))
        .expect("access cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(access.contains(attribute), "{access} lacks {attribute}");
    }
    let refresh = landed
        .set_cookies
        .iter()
        .find(|c| c.starts_with("sluice_refresh="))
        .expect("refresh cookie");
    assert!(
        refresh.contains("SameSite=Strict") && refresh.contains("Path=/api/v1/auth"),
        "{refresh}"
    );
    browser
}

async fn get_json(browser: &mut Browser, url: &str) -> (StatusCode, Value) {
    let step = browser.get(url).await;
    (
        step.status,
        serde_json::from_str(&step.body).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_person_signs_in_refreshes_and_signs_out() {
    let world = world_with(None).await;
    let mut ann = sign_in(&world, "ann").await;
    let me_url = format!("{}/api/v1/me", world.app.base);
    let (status, me) = get_json(&mut ann, &me_url).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["display_name"], "Ann Anderson");
    // A first sign-in with no invitation is a sign-up: an account of her own.
    assert_eq!(me["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(me["accounts"][0]["role"], "owner");
    let (status, _) = get_json(&mut ann, &format!("{}/api/v1/projects", world.app.base)).await;
    assert_eq!(status, 200);
    let (_, audit) = get_json(
        &mut ann,
        &format!("{}/api/v1/account/audit?action=sign_in", world.app.base),
    )
    .await;
    assert_eq!(
        audit["items"][0]["actor_user_id"], me["user_id"],
        "the sign-in is audited: {audit}"
    );

    // The access token also works as a bearer token for API clients.
    let access = ann.cookie("sluice_access").unwrap().to_owned();
    let bearer = reqwest::Client::new()
        .get(&me_url)
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);

    // Refresh rotates the secret; the spent one ends the session if presented again.
    let old_refresh = ann.cookie("sluice_refresh").unwrap().to_owned();
    let refreshed = ann
        .post_json(
            &format!("{}/api/v1/auth/refresh", world.app.base),
            json!({}),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let tokens: Value = serde_json::from_str(&refreshed.body).unwrap();
    assert_ne!(tokens["refresh_token"].as_str().unwrap(), old_refresh);
    assert_eq!(get_json(&mut ann, &me_url).await.0, 200);
    let mut thief = Browser::new();
    let replay = thief
        .post_json(
            &format!("{}/api/v1/auth/refresh", world.app.base),
            json!({ "refresh_token": old_refresh }),
        )
        .await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert_eq!(
        get_json(&mut ann, &me_url).await.0,
        401,
        "the whole session ended"
    );

    // A new sign-in (single sign-on at the provider) and a logout.
    let mut ann = sign_in(&world, "ann").await;
    assert_eq!(get_json(&mut ann, &me_url).await.0, 200);
    let access = ann.cookie("sluice_access").unwrap().to_owned();
    let out = ann
        .post_json(&format!("{}/api/v1/auth/logout", world.app.base), json!({}))
        .await;
    // The provider has an end-session endpoint: the answer says where to sign out there.
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(out.body.contains("end_session_url"), "{}", out.body);
    let gone = reqwest::Client::new()
        .get(&me_url)
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        gone.status(),
        401,
        "a logged-out access token stops at once"
    );
}

#[tokio::test]
async fn a_callback_cannot_be_replayed_or_forged() {
    let world = world_with(None).await;
    let mut browser = Browser::new();
    let authorize = start(&world.app, &mut browser).await;
    let callback = browser.sign_in_at_provider(&authorize, "bob").await;
    assert_eq!(browser.get(&callback).await.status, StatusCode::SEE_OTHER);

    // The same callback again: its state was consumed.
    let replayed = browser.get(&callback).await;
    assert_eq!(replayed.status, 401, "{}", replayed.body);
    assert!(replayed.body.contains("login_failed"), "{}", replayed.body);

    // A state Sluice never issued.
    let forged = callback.replace("state=", "state=forged");
    let step = Browser::new().get(&forged).await;
    assert_eq!(step.status, 401, "{}", step.body);
    let step = Browser::new()
        .get(&format!("{}/api/v1/auth/callback?code=x", world.app.base))
        .await;
    assert_eq!(step.status, 422, "{}", step.body);
}

#[tokio::test]
async fn an_id_token_with_another_nonce_is_refused() {
    let world = world_with(None).await;
    let mut browser = Browser::new();
    let authorize = start(&world.app, &mut browser).await;
    // An attacker swaps the nonce on the way to the provider: the provider signs it,
    // but it is not the nonce this sign-in stored.
    let nonce_start = authorize.find("nonce=").expect("a nonce") + "nonce=".len();
    let nonce_end = authorize[nonce_start..]
        .find('&')
        .map_or(authorize.len(), |i| nonce_start + i);
    let tampered = format!(
        "{}attacker-nonce{}",
        &authorize[..nonce_start],
        &authorize[nonce_end..]
    );
    let callback = browser.sign_in_at_provider(&tampered, "carol").await;
    let step = browser.get(&callback).await;
    assert_eq!(step.status, 401, "{}", step.body);
    assert!(step.body.contains("nonce"), "{}", step.body);
    assert!(browser.cookie("sluice_access").is_none());
}

#[tokio::test]
async fn a_provider_key_rotation_is_followed() {
    let dir = std::env::temp_dir().join(format!("sluice-jwks-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let k1 = DevIdp::generate_key("k1").await;
    let k2 = DevIdp::generate_key("k2").await;
    let before = dir.join("before.json");
    let after = dir.join("after.json");
    std::fs::write(&before, format!(r#"{{"keys":[{k1}]}}"#)).unwrap();
    std::fs::write(&after, format!(r#"{{"keys":[{k2},{k1}]}}"#)).unwrap();

    // Keys may be refetched every 2 s: the sign-ins after the rotation below come after
    // that, and all but the first of them fall inside the next 2 s.
    let World { app, idp } = world_refetching_keys_every(Some(&before), 2).await;
    let port = idp.port;
    let world = World { app, idp };
    let mut ann = sign_in(&world, "ann").await;
    assert_eq!(
        get_json(&mut ann, &format!("{}/api/v1/me", world.app.base))
            .await
            .0,
        200
    );

    // The provider restarts signing with k2; Sluice has only k1 cached.
    let World { app, idp } = world;
    idp.stop().await;
    let idp = DevIdp::start(port, &callback_url(&app), Some(&after)).await;
    let world = World { app, idp };
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    // Three people sign in at once: one refetches the keys, the others (inside the
    // refetch limit) verify against the keys it brought.
    let (bob, carol, dave) = tokio::join!(
        sign_in(&world, "bob"),
        sign_in(&world, "carol"),
        sign_in(&world, "dave")
    );
    for (mut browser, email) in [
        (bob, "bob@example.com"),
        (carol, "carol@example.com"),
        (dave, "dave@example.com"),
    ] {
        let (status, me) = get_json(&mut browser, &format!("{}/api/v1/me", world.app.base)).await;
        assert_eq!(status, 200);
        assert_eq!(me["email"], email);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn an_invitation_is_accepted_by_signing_in_with_that_email() {
    let world = world_with(None).await;
    let owner = world.app.account("Acme").await;
    let project = owner.project("p").await;
    owner
        .post(
            "/account/invitations",
            json!({ "email": "dave@example.com", "role": "member", "project_id": project, "project_role": "editor" }),
        )
        .await
        .expect(201);
    let mut dave = sign_in(&world, "dave").await;
    let (_, me) = get_json(&mut dave, &format!("{}/api/v1/me", world.app.base)).await;
    let accounts = me["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1, "no account of his own: {me}");
    assert_eq!(accounts[0]["id"], owner.account_id.as_str());
    assert_eq!(accounts[0]["role"], "member");
    let (status, projects) =
        get_json(&mut dave, &format!("{}/api/v1/projects", world.app.base)).await;
    assert_eq!(status, 200);
    assert_eq!(projects["items"][0]["id"], project.as_str());
    let invitations = owner.get("/account/invitations").await.expect(200);
    assert_eq!(invitations.body["items"][0]["status"], "accepted");
}

#[tokio::test]
async fn an_operator_created_owner_signs_in_to_their_account() {
    let world = world_with(None).await;
    let created =
        gateway::admin::create_account(&world.app.state.db, "standard", "Acme", "ann@example.com")
            .await
            .unwrap();
    let mut ann = sign_in(&world, "ann").await;
    let (_, me) = get_json(&mut ann, &format!("{}/api/v1/me", world.app.base)).await;
    assert_eq!(me["user_id"], created.user_id.as_str());
    assert_eq!(me["account_id"], created.account_id.as_str());
}

#[tokio::test]
async fn an_unverified_email_cannot_sign_in() {
    let world = world_with(None).await;
    let mut browser = Browser::new();
    let authorize = start(&world.app, &mut browser).await;
    let callback = browser.sign_in_at_provider(&authorize, "unverified").await;
    let step = browser.get(&callback).await;
    assert_eq!(step.status, 403, "{}", step.body);
    assert!(step.body.contains("email_not_verified"), "{}", step.body);
    // A browser's navigation lands on the console's sign-in page, told why.
    let authorize = start(&world.app, &mut browser).await;
    let callback = browser.sign_in_at_provider(&authorize, "unverified").await;
    let step = browser.navigate(&callback).await;
    assert_eq!(step.status, StatusCode::SEE_OTHER, "{}", step.body);
    let location = step.location.unwrap_or_default();
    // Only the code: the page says it in its own words.
    assert_eq!(location, "/?sign_in_error=email_not_verified");
}

#[tokio::test]
async fn sign_in_refuses_an_open_redirect() {
    let world = world_with(None).await;
    let step = Browser::new()
        .get(&format!(
            "{}/api/v1/auth/login?return_to=//evil.example/",
            world.app.base
        ))
        .await;
    assert_eq!(step.status, 422, "{}", step.body);
    assert!(step.body.contains("return_to"));
}

#[tokio::test]
async fn a_callback_captured_from_one_browser_does_not_sign_in_another() {
    let world = world_with(None).await;
    let mut ann = Browser::new();
    let authorize = start(&world.app, &mut ann).await;
    let callback = ann.sign_in_at_provider(&authorize, "ann").await;
    // Someone else's browser opens the callback URL captured from Ann's sign-in.
    let mut other = Browser::new();
    let step = other.get(&callback).await;
    assert_eq!(step.status, StatusCode::FORBIDDEN, "{}", step.body);
    assert!(step.body.contains("sign_in_elsewhere"), "{}", step.body);
    assert!(other.cookie("sluice_access").is_none());
    // The attempt is spent: it cannot be finished anywhere, so Ann starts again.
    let step = ann.get(&callback).await;
    assert_eq!(step.status, StatusCode::UNAUTHORIZED, "{}", step.body);
    assert!(ann.cookie("sluice_access").is_none());
    // Her own browser signs in as usual, and the binding cookie is cleared after.
    let mut ann = Browser::new();
    let authorize = start(&world.app, &mut ann).await;
    let binding = ann
        .cookies_named("sluice_login_")
        .expect("the sign-in's cookie in the starting browser");
    let callback = ann.sign_in_at_provider(&authorize, "ann").await;
    let landed = ann.get(&callback).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    assert!(ann.cookie("sluice_access").is_some());
    assert!(
        ann.cookie(&binding).is_none(),
        "the binding cookie is cleared"
    );
}

#[tokio::test]
async fn cookie_authenticated_changes_from_another_origin_are_refused() {
    let world = world_with(None).await;
    let mut ann = sign_in(&world, "ann").await;
    let base = world.app.base.clone();
    let projects = format!("{base}/api/v1/projects");
    for headers in [
        [("origin", "https://evil.example")],
        [("sec-fetch-site", "cross-site")],
    ] {
        let step = ann
            .post_json_with(&projects, &headers, json!({ "name": "from elsewhere" }))
            .await;
        assert_eq!(
            step.status,
            StatusCode::FORBIDDEN,
            "{headers:?}: {}",
            step.body
        );
        assert!(step.body.contains("cross_origin_refused"), "{}", step.body);
    }
    // The console's own pages may.
    let step = ann
        .post_json_with(&projects, &[("origin", &base)], json!({ "name": "own" }))
        .await;
    assert_eq!(step.status, StatusCode::CREATED, "{}", step.body);
    let (_, listed) = get_json(&mut ann, &projects).await;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["own"], "nothing refused was created");
    // Signing out from elsewhere is refused too; bearer tokens are not affected.
    let step = ann
        .post_json_with(
            &format!("{base}/api/v1/auth/logout"),
            &[("origin", "https://evil.example")],
            json!({}),
        )
        .await;
    assert_eq!(step.status, StatusCode::FORBIDDEN, "{}", step.body);
    let api = world.app.account("Acme").await;
    let res = sluice_tests::Client::send(
        api.request(reqwest::Method::POST, "/projects")
            .header("origin", "https://evil.example")
            .json(&json!({ "name": "by token" })),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
}

/// A provider that sends no `email_verified` claim: not verified unless the operator
/// says the provider only issues verified addresses; an explicit `false` is refused
/// either way.
#[tokio::test]
async fn a_provider_without_email_verified_is_read_by_the_operators_setting() {
    async fn attempt(world: &World, login: &str) -> (StatusCode, String) {
        let mut browser = Browser::new();
        let authorize = start(&world.app, &mut browser).await;
        let callback = browser.sign_in_at_provider(&authorize, login).await;
        let step = browser.get(&callback).await;
        (step.status, step.body)
    }
    let by_claim = world_with(None).await;
    let (status, body) = attempt(&by_claim, "noclaim").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("email_not_verified"), "{body}");

    let trusted = world_tuned(None, |c| {
        c.auth.oidc.email_verification = domain::config::EmailVerification::Trusted;
    })
    .await;
    let (status, body) = attempt(&trusted, "noclaim").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (status, body) = attempt(&trusted, "unverified").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

/// A configured issuer the provider's document does not agree with (here a trailing
/// slash) is a configuration error naming both values, found at start.
#[tokio::test]
async fn an_issuer_that_differs_from_the_providers_is_reported_at_start() {
    let port = free_port();
    let idp = DevIdp::start(port, "http://127.0.0.1:9/api/v1/auth/callback", None).await;
    let mut config = domain::config::OidcConfig {
        issuer_url: format!("{}/", issuer_for(port)),
        client_id: CLIENT_ID.to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
        ..Default::default()
    };
    let oidc = gateway::access::oidc::Oidc::new(&config, "http://127.0.0.1:9")
        .unwrap()
        .unwrap();
    match oidc.check_discovery().await {
        Err(gateway::access::oidc::DiscoveryProblem::Misconfigured(message)) => {
            assert!(
                message.contains(&format!("`{}/`", issuer_for(port))),
                "{message}"
            );
            assert!(
                message.contains(&format!("`{}`", issuer_for(port))),
                "{message}"
            );
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
    // The same issuer without the slash is fine; a provider that is down is not an error
    // of the configuration.
    config.issuer_url = issuer_for(port);
    let oidc = gateway::access::oidc::Oidc::new(&config, "http://127.0.0.1:9")
        .unwrap()
        .unwrap();
    oidc.check_discovery().await.unwrap();

    // The server itself refuses to serve with the mismatched issuer, naming both.
    let mismatched = format!("{}/", issuer_for(port));
    let app = TestApp::spawn_with(|c| {
        c.auth.oidc.issuer_url = mismatched.clone();
        c.auth.oidc.client_id = CLIENT_ID.to_owned();
        c.auth.oidc.client_secret = CLIENT_SECRET.to_owned();
    })
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let served = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        gateway::serve(app.state.clone(), listener, std::future::pending()),
    )
    .await
    .expect("the server stops at start instead of serving");
    let message = served
        .expect_err("a mismatched issuer is an error")
        .to_string();
    assert!(message.contains(&format!("`{mismatched}`")), "{message}");
    assert!(
        message.contains(&format!("`{}`", issuer_for(port))),
        "{message}"
    );
    assert!(
        reqwest::get(format!("{}/healthz", app.base)).await.is_err(),
        "the test server with that configuration did not start either"
    );
    idp.stop().await;
    assert!(matches!(
        oidc.check_discovery().await,
        Err(gateway::access::oidc::DiscoveryProblem::Unreachable(_))
    ));
}

/// Userinfo that answers about another person than the ID token is refused, and so is
/// a callback that names another issuer (RFC 9207).
#[tokio::test]
async fn userinfo_about_someone_else_and_a_callback_from_another_issuer_are_refused() {
    let world = world_with(None).await;
    let mut browser = Browser::new();
    let authorize = start(&world.app, &mut browser).await;
    let callback = browser.sign_in_at_provider(&authorize, "impostor").await;
    let step = browser.get(&callback).await;
    assert_eq!(step.status, StatusCode::UNAUTHORIZED, "{}", step.body);
    assert!(step.body.contains("sub differs"), "{}", step.body);
    assert!(browser.cookie("sluice_access").is_none());

    let mut browser = Browser::new();
    let authorize = start(&world.app, &mut browser).await;
    let callback = browser.sign_in_at_provider(&authorize, "ann").await;
    let mut url = reqwest::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "iss")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair("iss", "https://evil.example");
    let step = browser.get(url.as_str()).await;
    assert_eq!(step.status, StatusCode::UNAUTHORIZED, "{}", step.body);
    assert!(step.body.contains("https://evil.example"), "{}", step.body);
    assert!(browser.cookie("sluice_access").is_none());
}

/// The `name=value` query parameters of `url`.
fn query_of(url: &str) -> std::collections::BTreeMap<String, String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The claims of a compact JWS, unverified (the provider verifies its own tokens).
fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWS payload");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&raw).unwrap()
}

/// Signing out ends the provider's session too (RP-initiated logout): the next sign-in
/// asks for credentials again, where ending only Sluice's session lets the provider
/// sign the same person straight back in.
#[tokio::test]
async fn signing_out_ends_the_providers_session_so_the_next_sign_in_asks_again() {
    let world = world_with(None).await;
    let base = world.app.base.clone();
    let mut ann = sign_in(&world, "ann").await;

    // The session keeps the provider's ID token, sealed.
    let kept: Vec<(Option<String>,)> = sqlx::query_as("select id_token from sessions")
        .fetch_all(&world.app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    let sealed = kept[0].0.clone().expect("the sign-in's ID token is kept");
    assert!(sealed.starts_with("v1."), "stored sealed");

    let out = ann
        .post_json(&format!("{base}/api/v1/auth/logout"), json!({}))
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert!(ann.cookie("sluice_access").is_none(), "cookies cleared");
    assert!(ann.cookie("sluice_refresh").is_none(), "cookies cleared");
    let body: Value = serde_json::from_str(&out.body).unwrap();
    let end_session_url = body["end_session_url"].as_str().expect("a URL").to_owned();

    // The provider's own endpoint, with the hint, the client, the way back and a state.
    let discovery: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        world.idp.issuer
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let endpoint = discovery["end_session_endpoint"].as_str().unwrap();
    assert!(
        end_session_url.starts_with(&format!("{endpoint}?")),
        "{end_session_url} is not at {endpoint}"
    );
    let query = query_of(&end_session_url);
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["post_logout_redirect_uri"], format!("{base}/"));
    let state = query["state"].clone();
    assert!(state.len() >= 16, "a random state: {state}");
    let hint = jwt_claims(&query["id_token_hint"]);
    assert_eq!(hint["sub"], "user-ann");
    assert_eq!(hint["aud"], CLIENT_ID);
    assert!(
        !sealed.contains(&query["id_token_hint"]),
        "the stored token is not readable as is"
    );
    // Spent with the session: the sign-out was the one use it was kept for.
    let kept: Vec<(Option<String>,)> = sqlx::query_as("select id_token from sessions")
        .fetch_all(&world.app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(kept[0].0, None);

    // Without the provider's sign-out, a sign-in now needs no credentials: the
    // provider sends the browser straight back with a code for Ann.
    let authorize = start(&world.app, &mut ann).await;
    let step = ann.get(&authorize).await;
    assert_eq!(step.status, StatusCode::SEE_OTHER, "{}", step.body);
    let location = step.location.unwrap_or_default();
    assert!(
        location.starts_with(&callback_url(&world.app)),
        "single sign-on while the provider's session lives: {location}"
    );

    // The sign-out there (confirmed on its form) returns to the console's start.
    let back = ann.sign_out_at_provider(&end_session_url).await;
    assert_eq!(back.split('?').next(), Some(format!("{base}/").as_str()));
    assert_eq!(query_of(&back)["state"], state);

    // Now the provider asks who is signing in, and it is whoever answers: Bob.
    let authorize = start(&world.app, &mut ann).await;
    let step = ann.get(&authorize).await;
    assert_eq!(step.status, StatusCode::SEE_OTHER, "{}", step.body);
    let interaction = step.location.unwrap_or_default();
    assert!(
        interaction.contains("/interaction/"),
        "the provider asks for credentials again: {interaction}"
    );
    let form = ann.get(&interaction).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"name="password""#), "{}", form.body);
    let step = ann
        .post_form(
            &format!("{interaction}/login"),
            &[("login", "bob"), ("password", "any")],
        )
        .await;
    assert_eq!(step.status, StatusCode::SEE_OTHER, "{}", step.body);
    let step = ann.get(&step.location.expect("to resume")).await;
    let callback = step.location.expect("to the callback");
    let landed = ann.get(&callback).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    let (status, me) = get_json(&mut ann, &format!("{base}/api/v1/me")).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["email"], "bob@example.com");
}
