//! Sign-in through any OpenID Connect provider: authorization code flow with PKCE S256,
//! `state` and `nonce` kept server-side (see `login_attempts`), the ID token verified
//! for issuer, audience, expiry, nonce and signature by the provider's keys.
//!
//! The person's email and name are read from the ID token and, where it lacks them
//! (a conforming provider issuing an access token puts them only in userinfo, OpenID
//! Connect Core 5.4), from the userinfo endpoint, whose `sub` must be the ID token's.
//!
//! The discovery document and keys are cached; an ID token signed by a key we do not
//! know makes us refetch the keys once (providers rotate keys), no more often than
//! `jwks_min_refetch_secs` so a stream of forged `kid`s cannot hammer the provider.
//! A sign-in that meets the rate limit verifies against the keys the last refetch
//! brought (several sign-ins right after a rotation all find the new key).
//! The HTTP client does not follow redirects: a provider endpoint that redirects is
//! a misconfiguration or an attack, not something to chase.
//!
//! Signing out (OpenID Connect RP-Initiated Logout 1.0): when the discovery document
//! names an `end_session_endpoint`, the sign-out sends the browser there with the
//! sign-in's ID token as `id_token_hint`, so the provider ends its own session too and
//! the next sign-in asks for credentials again instead of signing the same person
//! straight back in. The provider then returns the browser to `<public_url>/`, which
//! must be among the client's registered post-logout redirect URIs.

use std::time::{Duration, Instant};
use store::Error;

use openidconnect::core::{
    CoreClient, CoreIdToken, CoreJsonWebKeySet, CoreResponseType, CoreUserInfoClaims,
};
use openidconnect::{
    AccessToken, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, DiscoveryError, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, RequestTokenError, Scope, SignatureVerificationError, SubjectIdentifier,
    TokenResponse, UserInfoError,
};
use tokio::sync::RwLock;

use domain::config::{EmailVerification, OidcConfig};

pub const CALLBACK_PATH: &str = "/api/v1/auth/callback";
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The provider's discovery document, with the end-session endpoint if it has one.
type Metadata = ProviderMetadataWithLogout;

pub struct Oidc {
    config: OidcConfig,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    /// Where the provider returns the browser after signing out: the console's start.
    post_logout_redirect: PostLogoutRedirectUrl,
    http: reqwest::Client,
    cache: RwLock<Option<Cached>>,
}

struct Cached {
    metadata: Metadata,
    discovered_at: Instant,
    keys_fetched_at: Instant,
}

/// Why the provider's discovery document could not be used.
#[derive(Debug)]
pub enum DiscoveryProblem {
    /// The configuration and the provider disagree (the issuer): fix the configuration.
    Misconfigured(String),
    /// The provider did not answer, or not with a document: it may later.
    Unreachable(String),
}

impl std::fmt::Display for DiscoveryProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Misconfigured(m) | Self::Unreachable(m) => f.write_str(m),
        }
    }
}

/// What the browser is sent to the provider with, and what we keep to finish.
pub struct LoginStart {
    pub authorize_url: String,
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: String,
}

/// A person the provider vouched for.
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// The verified ID token itself, kept (sealed) with the session for the sign-out.
    pub id_token: RawIdToken,
}

/// An ID token as the provider issued it (compact JWS). A bearer-like credential: it
/// never appears in logs or debug output, and is stored only sealed.
#[derive(Clone)]
pub struct RawIdToken(String);

impl RawIdToken {
    pub fn new(token: String) -> Self {
        Self(token)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RawIdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawIdToken(<redacted>)")
    }
}

impl Oidc {
    /// `None` when no provider is configured.
    pub fn new(config: &OidcConfig, public_url: &str) -> anyhow::Result<Option<Self>> {
        if config.issuer_url.is_empty() {
            return Ok(None);
        }
        let public_url = public_url.trim_end_matches('/');
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()?;
        Ok(Some(Self {
            config: config.clone(),
            issuer: IssuerUrl::new(config.issuer_url.clone())
                .map_err(|e| anyhow::anyhow!("auth.oidc.issuer_url: {e}"))?,
            redirect: RedirectUrl::new(format!("{public_url}{CALLBACK_PATH}"))
                .map_err(|e| anyhow::anyhow!("auth.public_url: {e}"))?,
            post_logout_redirect: PostLogoutRedirectUrl::new(format!("{public_url}/"))
                .map_err(|e| anyhow::anyhow!("auth.public_url: {e}"))?,
            http,
            cache: RwLock::new(None),
        }))
    }

    /// The provider's metadata (with keys), from the cache while it is fresh.
    async fn metadata(&self) -> Result<Metadata, Error> {
        let ttl = Duration::from_secs(self.config.discovery_ttl_secs);
        if let Some(cached) = self.cache.read().await.as_ref() {
            if cached.discovered_at.elapsed() < ttl {
                return Ok(cached.metadata.clone());
            }
        }
        let mut cache = self.cache.write().await;
        if let Some(cached) = cache.as_ref() {
            if cached.discovered_at.elapsed() < ttl {
                return Ok(cached.metadata.clone());
            }
        }
        let metadata = self.discover().await.map_err(|e| match e {
            DiscoveryProblem::Misconfigured(message) => {
                Error::new(store::Kind::Internal, "sign_in_misconfigured", message)
            }
            DiscoveryProblem::Unreachable(message) => provider_unavailable(message),
        })?;
        *cache = Some(Cached {
            metadata: metadata.clone(),
            discovered_at: Instant::now(),
            keys_fetched_at: Instant::now(),
        });
        Ok(metadata)
    }

    async fn discover(&self) -> Result<Metadata, DiscoveryProblem> {
        Metadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| match e {
                // The document names another issuer (a trailing slash, a path): nothing
                // will ever verify, so say it as a configuration error with both values.
                DiscoveryError::Validation(detail) => DiscoveryProblem::Misconfigured(format!(
                    "auth.oidc.issuer_url is `{}`, but the provider's discovery document does not agree: {detail}",
                    self.issuer.as_str()
                )),
                other => DiscoveryProblem::Unreachable(format!("discovery failed: {other}")),
            })
    }

    /// Checks the provider at start: a mismatched issuer is an error to stop on; an
    /// unreachable provider is not (it is asked again, see [`Oidc::watch_discovery`]).
    pub async fn check_discovery(&self) -> Result<(), DiscoveryProblem> {
        let metadata = self.discover().await?;
        let mut cache = self.cache.write().await;
        *cache = Some(Cached {
            metadata,
            discovered_at: Instant::now(),
            keys_fetched_at: Instant::now(),
        });
        Ok(())
    }

    /// Asks the provider again every so often until it answers (logging each miss), for
    /// a server that started while the provider was down.
    pub async fn watch_discovery(&self, stop: tokio_util::sync::CancellationToken) {
        let mut delay = Duration::from_secs(2);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
            match self.check_discovery().await {
                Ok(()) => {
                    tracing::info!(issuer = %self.issuer.as_str(), "the identity provider answers now");
                    return;
                }
                Err(DiscoveryProblem::Misconfigured(message)) => {
                    tracing::error!(%message, "sign-in cannot work until the configuration is fixed");
                    return;
                }
                Err(DiscoveryProblem::Unreachable(message)) => {
                    tracing::warn!(%message, "the identity provider does not answer yet; sign-in waits for it");
                }
            }
            delay = (delay * 2).min(Duration::from_secs(60));
        }
    }

    /// Refetches the provider's keys after an unknown `kid`; `None` if we did so too recently.
    async fn refetch_keys(&self) -> Result<Option<Metadata>, Error> {
        let mut cache = self.cache.write().await;
        let Some(cached) = cache.as_mut() else {
            return Ok(None);
        };
        if cached.keys_fetched_at.elapsed() < Duration::from_secs(self.config.jwks_min_refetch_secs)
        {
            return Ok(None);
        }
        let keys = CoreJsonWebKeySet::fetch_async(cached.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| {
                provider_unavailable(format!("fetching the provider's keys failed: {e}"))
            })?;
        cached.metadata = cached.metadata.clone().set_jwks(keys);
        cached.keys_fetched_at = Instant::now();
        tracing::info!("refetched the identity provider's signing keys after an unknown key id");
        Ok(Some(cached.metadata.clone()))
    }

    fn client(&self, metadata: Metadata) -> CoreClientWithRedirect {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// Starts a sign-in: the URL to send the browser to, and the secrets to keep.
    pub async fn begin(&self) -> Result<LoginStart, Error> {
        let client = self.client(self.metadata().await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(LoginStart {
            authorize_url: url.to_string(),
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
        })
    }

    /// Redeems the code (with the PKCE verifier) and verifies the ID token against `nonce`.
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<VerifiedIdentity, Error> {
        let metadata = self.metadata().await?;
        let client = self.client(metadata);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| provider_unavailable(format!("the provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(err) => login_failed(format!(
                    "the provider refused the authorization code ({}); start the sign-in again",
                    err.error()
                )),
                RequestTokenError::Request(err) => {
                    provider_unavailable(format!("token request failed: {err}"))
                }
                RequestTokenError::Parse(err, _) => {
                    provider_unavailable(format!("unreadable token response: {err}"))
                }
                RequestTokenError::Other(err) => {
                    provider_unavailable(format!("token request failed: {err}"))
                }
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| login_failed("the provider returned no ID token"))?;
        let nonce = Nonce::new(nonce.to_owned());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // Rate-limited: another sign-in may have just fetched the new keys.
                let metadata = match self.refetch_keys().await? {
                    Some(metadata) => metadata,
                    None => self.metadata().await?,
                };
                let client = self.client(metadata);
                let verifier = client.id_token_verifier();
                let claims = id_token
                    .claims(&verifier, &nonce)
                    .map_err(rejected_id_token)?
                    .clone();
                claims
            }
            Err(e) => return Err(rejected_id_token(e)),
        };
        let mut identity = VerifiedIdentity {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: self.verified(claims.email_verified()),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
            id_token: RawIdToken::new(id_token.to_string()),
        };
        if identity.email.is_none() || identity.name.is_none() {
            self.add_userinfo(
                &client,
                response.access_token(),
                claims.subject(),
                &mut identity,
            )
            .await?;
        }
        Ok(identity)
    }

    /// Fills what the ID token lacked from the userinfo endpoint, if the provider has
    /// one; a userinfo answer about another subject is refused.
    async fn add_userinfo(
        &self,
        client: &CoreClientWithRedirect,
        access_token: &AccessToken,
        subject: &SubjectIdentifier,
        identity: &mut VerifiedIdentity,
    ) -> Result<(), Error> {
        let Ok(request) = client.user_info(access_token.clone(), Some(subject.clone())) else {
            return Ok(()); // no userinfo endpoint: the ID token is all there is
        };
        let info: CoreUserInfoClaims = request.request_async(&self.http).await.map_err(|e| match e {
            UserInfoError::ClaimsVerification(ClaimsVerificationError::InvalidSubject(_)) => {
                login_failed("the provider's userinfo describes another person than its ID token (sub differs)")
            }
            other => provider_unavailable(format!("userinfo request failed: {other}")),
        })?;
        if identity.email.is_none() {
            identity.email = info.email().map(|e| e.to_string());
            identity.email_verified = self.verified(info.email_verified());
        }
        if identity.name.is_none() {
            identity.name = info.name().and_then(|n| n.get(None)).map(|n| n.to_string());
        }
        Ok(())
    }

    /// Where to send the browser so the provider ends its session too, or `None` when
    /// its discovery document names no end-session endpoint. `id_token` (the session's,
    /// when kept) becomes the `id_token_hint`; `client_id` goes along either way, since
    /// providers that require a hint with a post-logout redirect accept the client id
    /// in its place. `state` is random: the console does not read it on return, but a
    /// provider may insist on one.
    pub async fn end_session_url(
        &self,
        id_token: Option<&RawIdToken>,
    ) -> Result<Option<String>, Error> {
        let metadata = self.metadata().await?;
        let Some(endpoint) = metadata.additional_metadata().end_session_endpoint.clone() else {
            return Ok(None);
        };
        let mut request = LogoutRequest::from(endpoint);
        if let Some(token) = id_token {
            match token.expose().parse::<CoreIdToken>() {
                Ok(token) => request = request.set_id_token_hint(&token),
                // It was verified at sign-in, so this is not expected; the client id
                // still identifies the sign-out.
                Err(_) => tracing::warn!("a session's ID token no longer parses; signing out at the provider without id_token_hint"),
            }
        }
        let url = request
            .set_client_id(ClientId::new(self.config.client_id.clone()))
            .set_post_logout_redirect_uri(self.post_logout_redirect.clone())
            .set_state(CsrfToken::new_random())
            .http_get_url();
        Ok(Some(url.to_string()))
    }

    /// Whether an email address counts as verified, by the operator's setting.
    fn verified(&self, claim: Option<bool>) -> bool {
        claim.unwrap_or(self.config.email_verification == EmailVerification::Trusted)
    }

    /// RFC 9207: when the provider names itself on the callback (`iss`), it must be the
    /// configured issuer, or the code may come from another provider (mix-up attack).
    pub fn check_callback_issuer(&self, iss: Option<&str>) -> Result<(), Error> {
        match iss {
            Some(iss)
                if iss.trim_end_matches('/') != self.issuer.as_str().trim_end_matches('/') =>
            {
                Err(login_failed(format!(
                    "the callback comes from the issuer {iss}, not the configured {}",
                    self.issuer.as_str()
                )))
            }
            _ => Ok(()),
        }
    }
}

type CoreClientWithRedirect = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

fn rejected_id_token(e: ClaimsVerificationError) -> Error {
    let why = match &e {
        ClaimsVerificationError::InvalidNonce(_) => {
            "its nonce is not the one of this sign-in".to_owned()
        }
        ClaimsVerificationError::Expired(_) => "it has expired".to_owned(),
        ClaimsVerificationError::InvalidAudience(_) => "it is meant for another client".to_owned(),
        ClaimsVerificationError::InvalidIssuer(_) => "it comes from another issuer".to_owned(),
        ClaimsVerificationError::SignatureVerification(_) => {
            "its signature does not verify".to_owned()
        }
        // The enum is non-exhaustive; every other failure is a refusal with its own words.
        other => other.to_string(),
    };
    login_failed(format!("the provider's ID token was refused: {why}"))
}

pub fn login_failed(message: impl Into<String>) -> Error {
    Error::new(store::Kind::Unauthenticated, "login_failed", message)
}

fn provider_unavailable(message: String) -> Error {
    tracing::warn!(%message, "identity provider unavailable");
    Error::new(
        store::Kind::Upstream,
        "identity_provider_unavailable",
        format!("the identity provider could not be reached: {message}"),
    )
}
