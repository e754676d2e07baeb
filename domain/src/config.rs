//! Layered configuration: built-in defaults, then `sluice.toml` (or the file named by
//! `SLUICE_CONFIG`), then `SLUICE__`-prefixed environment variables (`__` separates
//! levels: `SLUICE__DATABASE__URL`). Unknown keys are rejected so a typo never
//! silently falls back to a default.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::limits::Limits;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP API listens on.
    pub listen: SocketAddr,
    /// Directory for the SQLite file, uploaded artifacts and generated keys.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub secrets: SecretsConfig,
    /// Plan every new account gets.
    pub default_plan: String,
    /// Plans by name; `standard` always exists with the product's published limits.
    pub plans: BTreeMap<String, Limits>,
    /// Largest JSON request body, in bytes.
    pub max_json_body_bytes: usize,
    pub auth: AuthConfig,
    pub engine: EngineConfig,
    pub billing: BillingConfig,
    /// SMTP server and SMS provider the notices and alerts are sent through.
    pub delivery: delivery::DeliveryConfig,
    pub outbox: OutboxConfig,
    pub notices: NoticesConfig,
    pub subscriptions: SubscriptionsConfig,
    pub alerts: AlertsConfig,
    pub metrics: MetricsConfig,
    pub job_metrics: JobMetricsConfig,
    pub console: ConsoleConfig,
    pub cors: CorsConfig,
}

/// Cross-origin calls from browsers. Off by default: the console is served by Sluice
/// itself, so only other web applications that call the API need to be listed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    /// Origins (`https://app.example.com`) whose pages may call the API with the
    /// browser's credentials.
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// The web console's production build (`npm run build` in `frontend/`), served at
    /// `/`. Without an `index.html` there, `/` answers 404 and the API works alone.
    pub dir: PathBuf,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("frontend/dist"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobMetricsConfig {
    /// How often each running job is sampled (one engine request each).
    pub interval_ms: u64,
    /// Raw samples are kept this long, then averaged into `downsample_secs` rows.
    pub raw_retention_secs: u64,
    pub downsample_secs: u64,
    /// Everything older is dropped.
    pub retention_secs: u64,
    /// Every this many samples of a job, the request reads its sources' lag instead of
    /// the job (one source vertex each time); 0 never reads lag.
    pub lag_every: u64,
}

impl Default for JobMetricsConfig {
    fn default() -> Self {
        Self {
            interval_ms: 15_000,
            raw_retention_secs: 3_600,
            downsample_secs: 300,
            retention_secs: 7 * 86_400,
            lag_every: 4,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `/metrics` on this address instead of the API's (e.g. `127.0.0.1:9464`,
    /// reachable by the scraper only). Empty: `/metrics` on the API listener.
    pub listen: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// How often each project's alert rules are evaluated.
    pub interval_ms: u64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self { interval_ms: 5_000 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// How often each replica looks for messages due.
    pub interval_ms: u64,
    /// Messages one pass leases at most.
    pub batch_size: usize,
    /// Messages one replica sends at the same time.
    pub concurrency: usize,
    /// How long a lease lasts: a worker that dies holding one is replaced after this.
    pub lease_ms: u64,
    /// First retry delay; each further one doubles, up to an hour.
    pub retry_base_ms: u64,
    /// Attempts before a message is marked failed.
    pub max_attempts: i64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            interval_ms: 1_000,
            batch_size: 50,
            concurrency: 8,
            // Longer than a batch can take with slow receivers (batch / concurrency x
            // the HTTP timeout), so a live worker's lease never runs out under it.
            lease_ms: 300_000,
            retry_base_ms: 5_000,
            max_attempts: 12,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoticesConfig {
    /// Days before each lifecycle milestone that affected accounts are reminded.
    pub reminder_days: Vec<i64>,
}

impl Default for NoticesConfig {
    fn default() -> Self {
        Self {
            reminder_days: vec![120, 30, 7],
        }
    }
}

/// A subscription term's lifecycle (the stages are `billing::term`'s).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubscriptionsConfig {
    /// Days before a term ends that the owners and billing managers are reminded.
    pub reminder_days: Vec<i64>,
    /// Days before a term ends that an automatic renewal is charged from the balance
    /// (retried daily until the end when the balance is short).
    pub auto_renew_days_before: i64,
    /// Days after a term ended unrenewed that the subscription is released.
    pub release_after_days: i64,
    /// How often each replica looks for terms to remind, renew, expire or release.
    pub interval_secs: u64,
}

impl Default for SubscriptionsConfig {
    fn default() -> Self {
        Self {
            reminder_days: vec![7, 3, 1],
            auto_renew_days_before: 9,
            release_after_days: 15,
            interval_secs: 60,
        }
    }
}

impl SubscriptionsConfig {
    /// The rules the term's stages are counted with.
    pub fn rules(&self) -> billing::term::Rules {
        billing::term::Rules {
            reminder_days: self.reminder_days.clone(),
            auto_renew_days_before: self.auto_renew_days_before,
            release_after_days: self.release_after_days,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BillingConfig {
    /// ISO code of the currency bills are in (CNY, USD, EUR, JPY).
    pub currency: String,
    /// Pay-as-you-go price versions; each applies from its instant until the next.
    pub prices: Vec<PriceConfig>,
    /// `minute` (the product's: each minute at the largest CU held) or `second` (exact).
    pub granularity: String,
    /// When a pay-as-you-go project pays the 2-CU management fee: `every_hour` (the
    /// product's fixed fee per pay-as-you-go workspace per hour, the default) or
    /// `hours_with_usage` (only hours in which something ran).
    pub management_fee: String,
    /// How long after an hour ends it is billed, so late observations land first.
    pub settle_delay_secs: i64,
    /// How often the billing worker looks for hours to bill.
    pub interval_secs: u64,
    /// Days an issued bill may stay unpaid before the account is in arrears.
    pub grace_period_days: i64,
    /// Percent of the unused, prorated part of a subscription refunded on unsubscribing.
    pub unsubscribe_refund_percent: i64,
    /// Lets owners and billing managers top up their own balance through the API (for
    /// test and demo servers). Off: only operators credit balances (`sluice admin top-up`).
    pub allow_api_top_ups: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceConfig {
    /// RFC 3339 instant the price takes effect.
    pub effective_from: String,
    /// Price of one CU for one hour, a decimal in major units (e.g. "0.09").
    pub cu_hour: String,
    /// Subscription price of one CU for one month, a decimal in major units.
    pub cu_month: String,
}

impl Default for BillingConfig {
    fn default() -> Self {
        Self {
            currency: "CNY".to_owned(),
            prices: vec![PriceConfig {
                effective_from: "2020-01-01T00:00:00Z".to_owned(),
                cu_hour: "0.09".to_owned(),
                cu_month: "50".to_owned(),
            }],
            granularity: "minute".to_owned(),
            management_fee: "every_hour".to_owned(),
            settle_delay_secs: 60,
            interval_secs: 60,
            grace_period_days: 7,
            unsubscribe_refund_percent: 100,
            allow_api_top_ups: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// REST URL of the cluster the platform provides to every account (the local one
    /// from `scripts/flink.sh`); empty: none, accounts register their own.
    pub default_cluster_url: String,
    pub default_flink_version: String,
    pub default_engine_version: String,
    /// The SQL runner jar (`scripts/build-sql-runner.sh`). Empty: the newest
    /// `.engine/sql-runner-*.jar` under the working directory, if any.
    pub sql_runner_jar: PathBuf,
    /// The connector catalogue (`scripts/connectors.sh`): one `<flink
    /// version>/manifest.json` per engine, naming the jars its clusters carry.
    pub connectors_dir: PathBuf,
    /// PyFlink's `flink-python-<flink version>.jar` for each engine version Python jobs
    /// run on (their driver, uploaded to each cluster once). Empty: those of the venvs
    /// `scripts/flink.sh` installs (`.engine/flink-<version>/venv`), if any.
    pub flink_python_jars: Vec<PathBuf>,
    /// The interpreter (with PyFlink of the same version) a Python job's script runs
    /// with on the JobManager, per Flink version (`"2.3.0" = "/opt/pyflink/bin/python"`),
    /// sent as the job's `python.client.executable`. A version without one uses its
    /// cluster's own setting (`scripts/flink.sh` sets it on the local clusters).
    pub python_client_executables: BTreeMap<String, String>,
    /// How often the reconciler compares each deployment with the engine.
    pub reconcile_interval_ms: u64,
    /// Restarts of a job that died while meant to run, before it is left FAILED.
    pub max_restarts: i64,
    /// How long a replica's claim on a deployment lasts unless renewed. The holder
    /// renews it while it acts, so this bounds only how soon another replica takes
    /// over from one that died.
    pub lease_ms: u64,
    /// How long a job that runs on a cluster under Sluice's id scheme, but for no
    /// deployment, is left before it is cancelled (it is reported at once).
    pub orphan_grace_ms: u64,
    /// Debug runs of SQL drafts.
    pub debug: DebugConfig,
}

/// Debug runs: their limits (a request may ask for less, never more), the sample files
/// they read, and whether the platform's cluster takes them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DebugConfig {
    /// Records captured before a run stops (all statements together).
    pub record_limit: u64,
    /// How long a run lasts at most.
    pub time_limit_secs: u64,
    /// Largest sample file, in bytes.
    pub sample_max_bytes: usize,
    /// The platform's cluster is a session cluster for debug runs.
    pub platform_sessions: bool,
    /// Where the engine's TaskManagers send what a run captures: this server's base URL
    /// as they reach it. Empty: `auth.public_url`.
    pub capture_base_url: String,
}

impl Default for DebugConfig {
    fn default() -> Self {
        Self {
            record_limit: 1000,
            time_limit_secs: 180,
            sample_max_bytes: 1024 * 1024,
            platform_sessions: true,
            capture_base_url: String::new(),
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            default_cluster_url: String::new(),
            default_flink_version: "2.3.0".to_owned(),
            default_engine_version: "1.0.0".to_owned(),
            sql_runner_jar: PathBuf::new(),
            connectors_dir: PathBuf::from(".engine/connectors"),
            flink_python_jars: Vec::new(),
            python_client_executables: BTreeMap::new(),
            reconcile_interval_ms: 5000,
            max_restarts: 3,
            lease_ms: 3000,
            orphan_grace_ms: 60_000,
            debug: DebugConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The URL people reach this server at: issuer of access tokens and base of the
    /// OIDC redirect URI (`<public_url>/api/v1/auth/callback`).
    pub public_url: String,
    /// Lifetime of a signed access token.
    pub access_token_ttl_secs: i64,
    /// Lifetime of a console session (its refresh token) since sign-in.
    pub session_ttl_secs: i64,
    /// Sets `Secure` on session cookies. Browsers accept secure cookies from
    /// http://localhost and 127.0.0.1, so only plain-http hosts need this off.
    pub cookie_secure: bool,
    /// Keys for access tokens. The first key with a private part signs; every key
    /// verifies until its `verify_until`. Empty: an ES256 key generated once under
    /// `data_dir` (fine for one replica; replicas must share configured keys).
    pub signing_keys: Vec<SigningKeyConfig>,
    pub oidc: OidcConfig,
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningKeyConfig {
    /// Goes into the token header so verifiers pick the right key.
    pub kid: String,
    /// `ES256` (default), `RS256` or `EdDSA`.
    pub algorithm: String,
    /// PEM (PKCS#8) private key; empty for a retired key that only verifies.
    pub private_key_pem: String,
    /// PEM public key.
    pub public_key_pem: String,
    /// RFC 3339 instant after which tokens signed with this key are refused.
    pub verify_until: Option<String>,
}

impl fmt::Debug for SigningKeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyConfig")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_key_pem", &redacted(&self.private_key_pem))
            .field("verify_until", &self.verify_until)
            .finish()
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// The provider's issuer URL; empty turns sign-in through OIDC off.
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// How long the provider's discovery document and keys are reused.
    pub discovery_ttl_secs: u64,
    /// An ID token signed by an unknown key makes Sluice refetch the provider's keys
    /// (providers rotate them), at most this often.
    pub jwks_min_refetch_secs: u64,
    /// How long a started sign-in may take before its state expires.
    pub login_ttl_secs: i64,
    /// How the provider tells that an email address is verified: `claim` (its
    /// `email_verified` claim must be true; absent counts as not verified) or `trusted`
    /// (it only issues verified addresses, so an absent claim counts as verified; an
    /// explicit `false` is still refused).
    pub email_verification: EmailVerification,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailVerification {
    #[default]
    Claim,
    Trusted,
}

impl fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &redacted(&self.client_secret))
            .field("scopes", &self.scopes)
            .finish()
    }
}

fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() {
        "<unset>"
    } else {
        "<redacted>"
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
            access_token_ttl_secs: 15 * 60,
            session_ttl_secs: 7 * 24 * 3600,
            cookie_secure: true,
            signing_keys: Vec::new(),
            oidc: OidcConfig::default(),
        }
    }
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            issuer_url: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            scopes: vec!["email".to_owned(), "profile".to_owned()],
            discovery_ttl_secs: 3600,
            jwks_min_refetch_secs: 10,
            login_ttl_secs: 600,
            email_verification: EmailVerification::Claim,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://...`. Empty means `<data_dir>/sluice.db`.
    pub url: String,
    /// Connections in the pool; 0 picks a default per backend.
    pub max_connections: u32,
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsConfig {
    /// Base64 of the 32-byte AES-256-GCM key that encrypts connection secrets at rest.
    /// Empty means: use `<data_dir>/secret.key`, generating it on first start.
    pub encryption_key: String,
}

impl fmt::Debug for SecretsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretsConfig")
            .field("encryption_key", &redacted(&self.encryption_key))
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        let mut plans = BTreeMap::new();
        plans.insert(crate::limits::STANDARD_PLAN.to_owned(), Limits::default());
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database: DatabaseConfig::default(),
            secrets: SecretsConfig::default(),
            default_plan: crate::limits::STANDARD_PLAN.to_owned(),
            plans,
            max_json_body_bytes: 2 * 1024 * 1024,
            auth: AuthConfig::default(),
            engine: EngineConfig::default(),
            billing: BillingConfig::default(),
            delivery: delivery::DeliveryConfig::default(),
            outbox: OutboxConfig::default(),
            notices: NoticesConfig::default(),
            subscriptions: SubscriptionsConfig::default(),
            alerts: AlertsConfig::default(),
            metrics: MetricsConfig::default(),
            job_metrics: JobMetricsConfig::default(),
            console: ConsoleConfig::default(),
            cors: CorsConfig::default(),
        }
    }
}

impl Config {
    /// Loads defaults, then the config file (if it exists), then the environment.
    pub fn load() -> Result<Self, Box<figment::Error>> {
        let file = std::env::var("SLUICE_CONFIG").unwrap_or_else(|_| "sluice.toml".to_owned());
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("SLUICE__").split("__").lowercase(true))
            .extract()
            .map_err(Box::new)?;
        config
            .validate()
            .map_err(|e| Box::new(figment::Error::from(e)))?;
        Ok(config)
    }

    /// Checks what serde cannot: cross-field rules.
    pub fn validate(&self) -> Result<(), String> {
        if !self.plans.contains_key(&self.default_plan) {
            return Err(format!(
                "default_plan `{}` is not one of the configured plans ({})",
                self.default_plan,
                self.plans.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if self.auth.access_token_ttl_secs < 10
            || self.auth.session_ttl_secs < self.auth.access_token_ttl_secs
        {
            return Err(
                "auth.access_token_ttl_secs must be at least 10 and at most auth.session_ttl_secs"
                    .to_owned(),
            );
        }
        billing::meter::ManagementFee::parse(&self.billing.management_fee)?;
        if !(0..=100).contains(&self.billing.unsubscribe_refund_percent) {
            return Err("billing.unsubscribe_refund_percent must be between 0 and 100".to_owned());
        }
        if self.outbox.batch_size == 0
            || self.outbox.concurrency == 0
            || self.outbox.max_attempts < 1
        {
            return Err(
                "outbox.batch_size, outbox.concurrency and outbox.max_attempts must be at least 1"
                    .to_owned(),
            );
        }
        if !self.metrics.listen.is_empty() && self.metrics.listen.parse::<SocketAddr>().is_err() {
            return Err(format!(
                "metrics.listen must be an address like 127.0.0.1:9464, got `{}`",
                self.metrics.listen
            ));
        }
        if self.engine.lease_ms < 300 {
            // Renewed every third of it: much shorter and a busy database loses leases.
            return Err(format!(
                "engine.lease_ms must be at least 300, got {}",
                self.engine.lease_ms
            ));
        }
        let m = &self.job_metrics;
        if m.downsample_secs == 0
            || m.raw_retention_secs < m.downsample_secs
            || m.retention_secs < m.raw_retention_secs
        {
            return Err("job_metrics: downsample_secs >= 1, raw_retention_secs >= downsample_secs, retention_secs >= raw_retention_secs".to_owned());
        }
        if self.notices.reminder_days.iter().any(|d| *d < 1) {
            return Err("notices.reminder_days are whole days, at least 1".to_owned());
        }
        let subs = &self.subscriptions;
        if subs.reminder_days.iter().any(|d| *d < 1)
            || subs.auto_renew_days_before < 0
            || subs.release_after_days < 0
            || subs.interval_secs == 0
        {
            return Err("subscriptions: reminder_days are whole days, at least 1; auto_renew_days_before and release_after_days at least 0; interval_secs at least 1".to_owned());
        }
        let oidc = &self.auth.oidc;
        if !oidc.issuer_url.is_empty() && oidc.client_id.is_empty() {
            return Err(
                "auth.oidc.client_id is required when auth.oidc.issuer_url is set".to_owned(),
            );
        }
        for (name, limits) in &self.plans {
            limits.validate().map_err(|e| format!("plans.{name}.{e}"))?;
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("sluice.db").display())
        } else {
            self.database.url.clone()
        }
    }

    pub fn limits_for(&self, plan: &str) -> Limits {
        self.plans.get(plan).cloned().unwrap_or_default()
    }
}
