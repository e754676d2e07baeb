//! Sign-in and the session: `/auth/login` sends the browser to the identity provider,
//! `/auth/callback` comes back with a code, and Sluice answers with its own short-lived
//! access token and a refresh secret, both in HttpOnly cookies (API clients may read
//! them from `/auth/refresh` and send the access token as a bearer token).
//!
//! Cookies: the access token is `SameSite=Lax` with `Path=/` so the console's first page
//! load after the provider's redirect is signed in; the refresh secret is
//! `SameSite=Strict` and only sent to `/api/v1/auth`. Lax keeps cross-site POSTs (CSRF)
//! from carrying the access token.
//!
//! A sign-in is bound to the browser that started it (login CSRF): `/auth/login` sets a
//! random secret in an HttpOnly cookie sent only to the callback, and the callback
//! accepts its `state` only with that cookie, so a callback URL captured from one
//! person's sign-in cannot sign another browser in as them.
//!
//! Signing out ends Sluice's session and, when the provider has an end-session
//! endpoint, answers where to send the browser so the provider ends its session too
//! (RP-initiated logout); otherwise "Sign in" would sign the same person straight back
//! in without asking.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json as JsonResponse;
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::{IntoParams, ToSchema};

use crate::access::audit::{self, Actor};
use crate::access::jwt::{ACCESS_COOKIE, REFRESH_COOKIE};
use crate::access::oidc::CALLBACK_PATH;
use crate::access::principal::cookie as cookie_value;
use crate::access::roles::{stored, AccountRole};
use crate::access::{sessions, Credential, Principal};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::AppState;

const REFRESH_COOKIE_PATH: &str = "/api/v1/auth";

fn oidc(state: &AppState) -> Result<&crate::access::oidc::Oidc, Error> {
    state.oidc.as_ref().ok_or_else(|| {
        Error::new(
            store::Kind::NotFound,
            "sign_in_disabled",
            "sign-in through an identity provider is not configured on this server",
        )
    })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LoginQuery {
    /// A path on this server to land on after signing in (default `/`).
    #[param(pattern = r"^/([^/\\\u0000-\u001f\u007f-\u009f][^\\\u0000-\u001f\u007f-\u009f]*)?$")]
    pub return_to: Option<String>,
}

/// Only local paths: anything else would make the login an open redirect.
fn safe_return_to(raw: Option<&str>) -> Result<String, Error> {
    let path = raw.unwrap_or("/");
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    if local {
        Ok(path.to_owned())
    } else {
        Err(Error::invalid(
            "return_to",
            "return_to must be a path on this server, starting with a single `/`",
        ))
    }
}

/// Starts a sign-in: redirects to the identity provider.
#[utoipa::path(get, path = "/auth/login", tag = "auth", params(LoginQuery), security(()),
    responses((status = 303, description = "to the identity provider"), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> ApiResult<Response> {
    for_browser(&headers, start_sign_in(&state, q).await)
}

async fn start_sign_in(state: &AppState, q: LoginQuery) -> ApiResult<Response> {
    let return_to = safe_return_to(q.return_to.as_deref())?;
    let oidc = oidc(state)?;
    let start = oidc.begin().await?;
    let browser = crate::access::generate_token().secret;
    let ttl = state.config.auth.oidc.login_ttl_secs;
    sessions::store_login_attempt(&state.db, &state.secrets, &start, &browser, &return_to, ttl)
        .await?;
    let binding = cookie(
        state,
        &login_cookie_name(&start.state),
        &browser,
        CALLBACK_PATH,
        "Lax",
        ttl,
    );
    Ok(redirect(&start.authorize_url, vec![binding]))
}

/// One cookie per sign-in in flight (named after its `state`), so two tabs signing in
/// at once do not undo each other. Lax: the provider's redirect back is a top-level
/// navigation from another site, which Lax cookies accompany and Strict ones do not.
fn login_cookie_name(state: &str) -> String {
    format!(
        "sluice_login_{}",
        &store::crypto::sha256_hex(state.as_bytes())[..16]
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set by the provider when the sign-in failed there.
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// Other parameters providers add (`iss`, `session_state`, ...) are ignored.
    #[serde(flatten)]
    #[param(ignore)]
    pub other: std::collections::HashMap<String, String>,
}

/// The provider's redirect back: verifies everything, signs the person in, and sends
/// the browser to where the sign-in started.
#[utoipa::path(get, path = "/auth/callback", tag = "auth", params(CallbackQuery), security(()),
    responses((status = 303, description = "signed in; cookies set"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "sign-in is not configured on this server"), (status = 502, body = ErrorBody)))]
pub async fn callback(
    State(state): State<AppState>,
    request_id: Option<axum::Extension<tower_http::request_id::RequestId>>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Response> {
    let request_id = request_id
        .as_ref()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("")
        .to_owned();
    let result = finish_sign_in(&state, &request_id, &headers, q).await;
    for_browser(&headers, result)
}

/// A person following a sign-in link in a browser lands on the console's sign-in page,
/// told what happened and offered to try again; API clients keep the JSON error. Only
/// the error's code travels in the URL: the page says it in its own words, so a crafted
/// link cannot put someone else's text on Sluice's page.
fn for_browser(headers: &HeaderMap, result: ApiResult<Response>) -> ApiResult<Response> {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    match result {
        Err(e) if wants_html => {
            tracing::info!(code = e.detail.code, message = %e.detail.message, "sign-in failed in a browser");
            Ok(redirect(
                &format!("/?sign_in_error={}", e.detail.code),
                Vec::new(),
            ))
        }
        other => other,
    }
}

async fn finish_sign_in(
    state: &AppState,
    request_id: &str,
    headers: &HeaderMap,
    q: CallbackQuery,
) -> ApiResult<Response> {
    let oidc = oidc(state)?;
    let state_param = q
        .state
        .as_deref()
        .ok_or_else(|| Error::invalid("state", "the callback has no state"))?;
    let browser = cookie_value(headers, &login_cookie_name(state_param));
    // Consumed first, whatever happens next: a callback can never be replayed.
    let pending =
        sessions::take_login_attempt(&state.db, &state.secrets, state_param, browser.as_deref())
            .await?;
    oidc.check_callback_issuer(q.other.get("iss").map(String::as_str))?;
    if let Some(error) = q.error {
        return Err(crate::access::oidc::login_failed(format!(
            "the identity provider refused the sign-in: {error} {}",
            q.error_description.unwrap_or_default()
        ))
        .into());
    }
    let code = q
        .code
        .as_deref()
        .ok_or_else(|| Error::invalid("code", "the callback has no code"))?;
    let identity = oidc
        .finish(code, &pending.pkce_verifier, &pending.nonce)
        .await?;
    let signed_in = sessions::provision(&state.db, &identity, &state.config.default_plan).await?;
    let session = sessions::create_signed_in_session(
        &state.db,
        &state.secrets,
        &signed_in.user_id,
        &signed_in.account_id,
        state.config.auth.session_ttl_secs,
        &identity.id_token,
    )
    .await?;
    tracing::info!(user = %signed_in.user_id, account = %signed_in.account_id, "signed in");
    let actor = Actor {
        account_id: signed_in.account_id.clone(),
        user_id: signed_in.user_id.clone(),
        credential: format!("session:{}", session.id),
    };
    // Sign-in is unauthenticated when it starts, so the audit middleware cannot file it.
    audit::Entry {
        actor: &actor,
        project_id: None,
        action: "sign_in".to_owned(),
        method: "GET",
        path: CALLBACK_PATH,
        outcome: "success",
        status: 303,
        request_id,
    }
    .write(state)
    .await;
    let access = state
        .session_keys
        .issue(&session.user_id, &session.account_id, &session.id)?;
    let mut cookies = session_cookies(state, &access, &session);
    cookies.push(cookie(
        state,
        &login_cookie_name(state_param),
        "",
        CALLBACK_PATH,
        "Lax",
        0,
    ));
    Ok(redirect(&pending.return_to, cookies))
}

fn redirect(location: &str, cookies: Vec<HeaderValue>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn cookie(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    same_site: &str,
    max_age: i64,
) -> HeaderValue {
    let secure = if state.config.auth.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn session_cookies(
    state: &AppState,
    access: &str,
    session: &sessions::Session,
) -> Vec<HeaderValue> {
    let session_left = (session.expires_at_ms - store::db::now_ms()) / 1000;
    vec![
        cookie(
            state,
            ACCESS_COOKIE,
            access,
            "/",
            "Lax",
            state.session_keys.ttl_secs(),
        ),
        cookie(
            state,
            REFRESH_COOKIE,
            &session.refresh_secret,
            REFRESH_COOKIE_PATH,
            "Strict",
            session_left.max(0),
        ),
    ]
}

fn cleared_cookies(state: &AppState) -> Vec<HeaderValue> {
    vec![
        cookie(state, ACCESS_COOKIE, "", "/", "Lax", 0),
        cookie(state, REFRESH_COOKIE, "", REFRESH_COOKIE_PATH, "Strict", 0),
    ]
}

#[derive(Serialize, ToSchema)]
pub struct Tokens {
    /// Send as `Authorization: Bearer ...`; also set as a cookie.
    pub access_token: String,
    /// Seconds the access token is valid.
    pub expires_in: i64,
    /// Use once with `/auth/refresh`; also set as a cookie.
    pub refresh_token: String,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh secret; taken from the cookie when absent.
    pub refresh_token: Option<String>,
}

fn with_cookies(body: impl IntoResponse, cookies: Vec<HeaderValue>) -> Response {
    let mut response = body.into_response();
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Trades the refresh secret for a new access token and a new refresh secret. The old
/// secret is spent: presenting it again ends the session.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body(content = RefreshRequest, description = "optional; the cookie is used otherwise"), security(()),
    responses((status = 200, body = Tokens), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    // The body is optional, so it is parsed here rather than by the Json extractor.
    let body: RefreshRequest = if body.is_empty() {
        RefreshRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::malformed(format!("the body is not a refresh request: {e}")))?
    };
    let presented = body
        .refresh_token
        .or_else(|| cookie_value(&headers, REFRESH_COOKIE))
        .ok_or_else(|| {
            Error::unauthorized("no refresh token: send `refresh_token` or the session cookie")
        })?;
    let session = sessions::refresh_session(&state.db, &presented).await?;
    let access = state
        .session_keys
        .issue(&session.user_id, &session.account_id, &session.id)?;
    let cookies = session_cookies(&state, &access, &session);
    Ok(with_cookies(
        JsonResponse(Tokens {
            access_token: access,
            expires_in: state.session_keys.ttl_secs(),
            refresh_token: session.refresh_secret,
        }),
        cookies,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct SignedOut {
    /// The identity provider's end-session endpoint (OpenID Connect RP-Initiated Logout),
    /// with `id_token_hint`, `client_id`, `post_logout_redirect_uri` (`<public_url>/`)
    /// and a random `state`. Send the browser there (a top-level navigation) so the
    /// provider ends its session too; it may ask the person to confirm, then returns
    /// the browser to the console's start. Null when there is nothing to end there:
    /// no provider is configured, it has no end-session endpoint, or it could not be
    /// reached just now.
    pub end_session_url: Option<String>,
}

/// Ends the session (its access tokens stop working at once) and clears the cookies.
/// The answer says where to send the browser so the identity provider's session ends
/// as well (`end_session_url`), when the provider has an end-session endpoint.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses(
        (status = 200, body = SignedOut, description = "signed out of Sluice; when `end_session_url` is set, go there to sign out at the identity provider too"),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "called with an API token: logout ends a signed-in session")))]
pub async fn logout(State(state): State<AppState>, principal: Principal) -> ApiResult<Response> {
    let id_token = match principal.credential() {
        Credential::Session { id } => {
            sessions::revoke_session(&state.db, &state.secrets, id).await?
        }
        Credential::Token { .. } => return Err(Error::invalid(
            "Authorization",
            "logout ends a signed-in session; revoke an API token with DELETE /tokens/{token_id}",
        )
        .into()),
    };
    let end_session_url = match state.oidc.as_ref() {
        // Sluice's session has ended either way: a provider that cannot be asked now
        // does not keep the cookies from being cleared.
        Some(oidc) => oidc
            .end_session_url(id_token.as_ref())
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(message = %e.message, "signed out without ending the identity provider's session");
                None
            }),
        None => None,
    };
    Ok(with_cookies(
        JsonResponse(SignedOut { end_session_url }),
        cleared_cookies(&state),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchAccount {
    pub account_id: String,
}

/// Moves the signed-in session to another account the user belongs to.
#[utoipa::path(post, path = "/auth/switch-account", tag = "auth", request_body = SwitchAccount,
    responses((status = 200, body = Tokens), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "called with an API token, which belongs to one account")))]
pub async fn switch_account(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<SwitchAccount>,
) -> ApiResult<Response> {
    let Credential::Session { id } = principal.credential() else {
        return Err(Error::invalid(
            "Authorization",
            "an API token belongs to one account; switching needs a signed-in session",
        )
        .into());
    };
    sessions::switch_account(&state.db, id, principal.user_id(), &body.account_id).await?;
    let access = state
        .session_keys
        .issue(principal.user_id(), &body.account_id, id)?;
    let cookie = cookie(
        &state,
        ACCESS_COOKIE,
        &access,
        "/",
        "Lax",
        state.session_keys.ttl_secs(),
    );
    Ok(with_cookies(
        JsonResponse(
            serde_json::json!({ "access_token": access, "expires_in": state.session_keys.ttl_secs() }),
        ),
        vec![cookie],
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    /// The account this request acts in.
    pub account_id: String,
    /// Every account the user belongs to, with their role there.
    pub accounts: Vec<MyAccount>,
}

#[derive(Serialize, ToSchema)]
pub struct MyAccount {
    pub id: String,
    pub name: String,
    pub role: AccountRole,
}

/// Who the caller is, and the accounts they can switch between.
#[utoipa::path(get, path = "/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(
    access: crate::access::AccountGuard<crate::access::can::account::Read>,
) -> ApiResult<JsonResponse<Me>> {
    let (email, display_name) = access.scope().members().profile(access.user_id()).await?;
    let rows = access.scope().accounts_of(access.user_id()).await?;
    let accounts = rows
        .into_iter()
        .map(|row| {
            Ok(MyAccount {
                id: row.id,
                name: row.name,
                role: stored(&row.role)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(JsonResponse(Me {
        user_id: access.user_id().to_owned(),
        email,
        display_name,
        account_id: access.account().as_str().to_owned(),
        accounts,
    }))
}
