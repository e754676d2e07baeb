//! The `sluice` binary: `sluice serve` runs the gateway; `sluice admin ...` runs
//! operator actions against the configured database.

use clap::{Parser, Subcommand};
use gateway::access::roles::{AccountRole, ProjectRole};
use gateway::{AppState, Config};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "Sluice: the control plane of a managed Flink service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (configuration: sluice.toml and SLUICE__* variables).
    Serve,
    /// Print the OpenAPI document of the HTTP API (the console's types are generated
    /// from it).
    Openapi,
    /// Operator actions.
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Subcommand)]
enum Admin {
    /// Create an account with its owner, and print an API token for the owner.
    CreateAccount {
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_email: String,
        /// Plan (from the configuration); defaults to `default_plan`.
        #[arg(long)]
        plan: Option<String>,
    },
    /// Add a person to an account with a role (as an accepted invitation would), and
    /// print an API token for them: for service users and automation.
    AddMember {
        #[arg(long)]
        account_id: String,
        #[arg(long)]
        email: String,
        /// owner, admin, billing_manager or member.
        #[arg(long, default_value = "member")]
        role: String,
        /// A project of the account to add them to, with --project-role.
        #[arg(long, requires = "project_role")]
        project_id: Option<String>,
        /// owner, admin, editor or viewer.
        #[arg(long, requires = "project_id")]
        project_role: Option<String>,
        /// Narrow the printed token to that project and role.
        #[arg(long, requires = "project_id")]
        narrow_token: bool,
    },
    /// Correct an issued bill with a credit note (the bill never changes); the amount is
    /// credited to the account's balance.
    CreditNote {
        #[arg(long)]
        bill_id: String,
        /// Amount in major units, at most what the bill still charges.
        #[arg(long)]
        amount: String,
        #[arg(long)]
        reason: String,
    },
    /// Publish a product form's lifecycle milestones (RFC 3339 instants), announced now
    /// (Sluice's clock: there is no --announced-at) and checked against the policy: 4
    /// months' notice for each, an EOM phase of 4 months at least, none earlier than
    /// already announced. Every publication is kept in the form's history.
    ProductForm {
        #[arg(long)]
        name: String,
        #[arg(long)]
        eom1: String,
        #[arg(long)]
        eom2: String,
        #[arg(long)]
        eofs: String,
        #[arg(long)]
        eos: String,
    },
    /// Publish an engine version's lifecycle (RFC 3339 instants), announced now and
    /// checked against the policy: EOGS >= GA + 180 days, EOFS >= EOGS + 90, EOS >= EOFS +
    /// 90, 3 months' notice, none earlier than already announced.
    EngineVersion {
        #[arg(long)]
        label: String,
        #[arg(long)]
        flink_version: String,
        #[arg(long)]
        ga: String,
        #[arg(long)]
        eogs: String,
        #[arg(long)]
        eofs: String,
        #[arg(long)]
        eos: String,
        /// Pull it for a defect: no new deployments on it.
        #[arg(long)]
        pulled: bool,
    },
    /// Make a person a platform operator, who sets lifecycles through the API.
    GrantOperator {
        #[arg(long)]
        email: String,
    },
    /// Send a notice (e.g. planned maintenance) to the owners and admins of one account,
    /// or of every account: in-site, by email and through the accounts' channels.
    Announce {
        /// One account; without it, every account.
        #[arg(long)]
        account_id: Option<String>,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        body: String,
    },
    /// Credit an account's prepaid balance (e.g. after a bank transfer); unpaid bills
    /// are paid from it at once.
    TopUp {
        #[arg(long)]
        account_id: String,
        /// Amount in major units of the billing currency, e.g. 100.00.
        #[arg(long)]
        amount: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        // Needs no configuration or database: the document is the router's.
        println!("{}", gateway::server::openapi_document());
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = Config::load().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    match cli.command {
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(config.listen).await?;
            let state = AppState::build(config).await?;
            gateway::serve(state, listener, shutdown_signal()).await?;
        }
        Command::Openapi => {}
        Command::Admin(command) => admin(command, config).await?,
    }
    Ok(())
}

/// An instant given on the command line, in RFC 3339.
fn instant(flag: &str, value: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| anyhow::anyhow!("--{flag}: {e}"))
}

/// `--amount` in the account currency's minor units.
fn minor_units(state: &AppState, amount: &str) -> anyhow::Result<i64> {
    gateway::api::balance::parse_top_up(state, amount).map_err(|e| anyhow::anyhow!("--amount: {e}"))
}

/// `--role`, and `--project-id` with `--project-role`, as roles.
fn roles<'a>(
    role: &str,
    project_id: Option<&'a str>,
    project_role: Option<&str>,
) -> anyhow::Result<(AccountRole, Option<(&'a str, ProjectRole)>)> {
    let role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
    let project_role = project_role
        .map(|r| {
            r.parse()
                .map_err(|e| anyhow::anyhow!("--project-role: {e}"))
        })
        .transpose()?;
    Ok((role, project_id.zip(project_role)))
}

/// Runs one operator command. Each reports on stderr; a secret it creates (a token)
/// is the only thing on stdout.
async fn admin(command: Admin, config: Config) -> anyhow::Result<()> {
    match command {
        Admin::CreateAccount {
            name,
            owner_email,
            plan,
        } => {
            let plan = plan.unwrap_or_else(|| config.default_plan.clone());
            if !config.plans.contains_key(&plan) {
                anyhow::bail!("plan `{plan}` is not configured");
            }
            let state = AppState::build(config).await?;
            let created =
                gateway::admin::create_account(&state.db, &plan, &name, &owner_email).await?;
            let (account, owner) = (&created.account_id, &created.user_id);
            eprintln!("created account {account} (owner user {owner})");
            eprintln!("the owner's API token follows; it is shown once:");
            println!("{}", created.token);
        }
        Admin::AddMember {
            account_id,
            email,
            role,
            project_id,
            project_role,
            narrow_token,
        } => {
            let (role, project) = roles(&role, project_id.as_deref(), project_role.as_deref())?;
            let state = AppState::build(config).await?;
            let (user_id, token) = gateway::admin::add_member_with_token(
                &state.db,
                &account_id,
                &email,
                role,
                project,
                narrow_token,
            )
            .await?;
            eprintln!("added user {user_id} to account {account_id}; their API token follows, shown once:");
            println!("{token}");
        }
        Admin::CreditNote {
            bill_id,
            amount,
            reason,
        } => {
            let state = AppState::build(config).await?;
            let minor = minor_units(&state, &amount)?;
            let id =
                domain::balance::credit_note(&state, &bill_id, minor, &reason, "operator").await?;
            eprintln!("credit note {id} of {amount} issued against bill {bill_id}");
        }
        Admin::ProductForm {
            name,
            eom1,
            eom2,
            eofs,
            eos,
        } => {
            let schedule = lifecycle::ProductSchedule {
                announced_at: chrono::Utc::now(),
                eom1: instant("eom1", &eom1)?,
                eom2: instant("eom2", &eom2)?,
                eofs: instant("eofs", &eofs)?,
                eos: instant("eos", &eos)?,
            };
            let state = AppState::build(config).await?;
            domain::product_forms::set_schedule(&state.db, &name, &schedule).await?;
            eprintln!("product form {name}: schedule published");
        }
        Admin::EngineVersion {
            label,
            flink_version,
            ga,
            eogs,
            eofs,
            eos,
            pulled,
        } => {
            let version = lifecycle::EngineVersion {
                label: label.clone(),
                flink_version,
                announced_at: chrono::Utc::now(),
                ga: instant("ga", &ga)?,
                eogs: instant("eogs", &eogs)?,
                eofs: instant("eofs", &eofs)?,
                eos: instant("eos", &eos)?,
                pulled,
            };
            let state = AppState::build(config).await?;
            domain::product_forms::set_engine_version(&state.db, &version).await?;
            eprintln!("engine version {label}: schedule published");
        }
        Admin::GrantOperator { email } => {
            let state = AppState::build(config).await?;
            gateway::admin::grant_operator(&state.db, &email).await?;
            eprintln!("{email} is now a platform operator");
        }
        Admin::Announce {
            account_id,
            subject,
            body,
        } => {
            let state = AppState::build(config).await?;
            let reached =
                gateway::admin::announce(&state.db, account_id.as_deref(), &subject, &body).await?;
            eprintln!("announced to {reached} people");
        }
        Admin::TopUp { account_id, amount } => {
            let state = AppState::build(config).await?;
            let minor = minor_units(&state, &amount)?;
            gateway::admin::ensure_account(&state.db, &account_id).await?;
            domain::balance::top_up(&state, &account_id, minor, "operator").await?;
            eprintln!("credited {amount} to account {account_id}");
        }
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for ctrl-c");
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => tracing::error!(error = %e, "cannot listen for SIGTERM"),
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown requested; draining requests");
}
