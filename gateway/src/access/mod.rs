//! Authentication and authorization: the one seam between a request and tenant data.
//!
//! A handler reaches tenant data only through a capability: [`ProjectGuard<P>`] (a project
//! the caller may act on with permission `P`) or [`AccountGuard<P>`] (the caller's account,
//! with permission `P`). Both are extractors that authenticate the caller
//! ([`Principal`]), resolve their role from the database and ask the [`Authorizer`];
//! the [`AccountId`] inside has a private field, so a query cannot be scoped to an
//! account that did not pass this check.
//!
//! The authorizer is casbin: `gateway/authz/model.conf` and `policy.csv` say what each
//! role may do. Role assignments are rows of `account_members` and `project_members`,
//! read on every request (one indexed query), so a role change counts on the next
//! request on every replica. The enforcer is built once and only read (`enforce` takes
//! `&self`), so requests never queue on a lock the way casbin's axum middleware does
//! with its write lock per request.
//!
//! Outcomes: no credential is 401; a project of another account, or one the caller has
//! no role on, is 404 (its existence is not disclosed); a visible project or the own
//! account with too weak a role is 403, naming the role needed.

pub mod audit;
pub mod jwt;
pub mod oidc;
pub mod principal;
pub mod roles;
pub mod sessions;

use std::marker::PhantomData;
use store::Error;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

pub use principal::{generate_token, AccountId, Credential, NewToken, Principal, TOKEN_PREFIX};
use roles::{stored, AccountRole, ProjectRole};

use crate::error::ApiError;
use crate::AppState;
use store::db::Db;
use store::{AccountScope, ProjectScope};

const MODEL: &str = include_str!("../../authz/model.conf");
const POLICY: &str = include_str!("../../authz/policy.csv");

/// What can be done to a project, as (object, action) of the casbin policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectAction {
    Read,
    WriteDrafts,
    Deploy,
    ManageConnections,
    ManageMembers,
    Update,
    Delete,
}

/// What can be done at account level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    Read,
    CreateProject,
    ManageMembers,
    ReadAudit,
    ReadBilling,
    PayBilling,
    ManageClusters,
    ManageNotifications,
    /// List, create and revoke one's own API tokens.
    ManageTokens,
    /// What spans the whole account: its members, one's inbox, the lifecycle impact
    /// over every project.
    ReadAccountWide,
}

/// The policy subject of a token narrowed to one project: at account level it may only
/// read what a project's work needs (the account, clusters, engine versions).
const SCOPED_TOKEN_SUBJECT: &str = "account:scoped_token";

impl ProjectAction {
    fn policy(self) -> (&'static str, &'static str) {
        match self {
            Self::Read => ("project", "read"),
            Self::WriteDrafts => ("drafts", "write"),
            Self::Deploy => ("deployments", "operate"),
            Self::ManageConnections => ("connections", "write"),
            Self::ManageMembers => ("members", "write"),
            Self::Update => ("project", "update"),
            Self::Delete => ("project", "delete"),
        }
    }
}

impl AccountAction {
    fn policy(self) -> (&'static str, &'static str) {
        match self {
            Self::Read => ("account", "read"),
            Self::CreateProject => ("projects", "create"),
            Self::ManageMembers => ("members", "write"),
            Self::ReadAudit => ("audit", "read"),
            Self::ReadBilling => ("billing", "read"),
            Self::PayBilling => ("billing", "pay"),
            Self::ManageClusters => ("clusters", "write"),
            Self::ManageNotifications => ("notifications", "write"),
            Self::ManageTokens => ("tokens", "write"),
            Self::ReadAccountWide => ("account_wide", "read"),
        }
    }
}

pub struct Authorizer {
    enforcer: casbin::Enforcer,
}

impl Authorizer {
    /// Builds the enforcer from the model and policy compiled into the binary.
    pub async fn load() -> anyhow::Result<Self> {
        use casbin::CoreApi;
        let model = casbin::DefaultModel::from_str(MODEL).await?;
        let enforcer = casbin::Enforcer::new(model, casbin::StringAdapter::new(POLICY)).await?;
        Ok(Self { enforcer })
    }

    fn allows(&self, subject: &str, (object, action): (&str, &str)) -> bool {
        use casbin::CoreApi;
        match self.enforcer.enforce((subject, object, action)) {
            Ok(allowed) => allowed,
            Err(e) => {
                tracing::error!(error = %e, subject, object, action, "casbin could not evaluate a request; denying");
                false
            }
        }
    }

    pub fn project_role_allows(&self, role: ProjectRole, action: ProjectAction) -> bool {
        self.allows(&format!("project:{role}"), action.policy())
    }

    pub fn account_role_allows(&self, role: AccountRole, action: AccountAction) -> bool {
        self.allows(&format!("account:{role}"), action.policy())
    }

    /// The weakest project role the policy lets do `action`, for error messages.
    fn weakest_project_role_for(&self, action: ProjectAction) -> Option<ProjectRole> {
        [
            ProjectRole::Viewer,
            ProjectRole::Editor,
            ProjectRole::Admin,
            ProjectRole::Owner,
        ]
        .into_iter()
        .find(|r| self.project_role_allows(*r, action))
    }

    fn account_roles_for(&self, action: AccountAction) -> Vec<&'static str> {
        [
            AccountRole::Member,
            AccountRole::BillingManager,
            AccountRole::Admin,
            AccountRole::Owner,
        ]
        .into_iter()
        .filter(|r| self.account_role_allows(*r, action))
        .map(AccountRole::as_str)
        .collect()
    }

    /// Checks an account-level action. Needs no query: the principal's account role was
    /// read when it was authenticated.
    pub fn account(
        &self,
        db: &Db,
        principal: &Principal,
        action: AccountAction,
    ) -> Result<AccountAccess, Error> {
        let role = principal.effective_account_role();
        let allowed = if principal.project_scope().is_some() {
            self.allows(SCOPED_TOKEN_SUBJECT, action.policy())
        } else {
            self.account_role_allows(role, action)
        };
        if !allowed {
            let needed = self.account_roles_for(action).join(" or ");
            let held = if principal.project_scope().is_some() {
                "a token narrowed to one project, which acts only within it".to_owned()
            } else {
                format!("the account role {role}")
            };
            return Err(Error::forbidden(format!(
                "this needs the account role {needed}; you have {held}"
            )));
        }
        Ok(AccountAccess {
            account: principal.account.clone(),
            scope: AccountScope::granted(db, principal.account.as_str()),
            role,
            user_id: principal.user_id.clone(),
            plan: principal.plan.clone(),
            project_scope: principal.project_scope().map(|(p, _)| p.to_owned()),
        })
    }

    /// Checks a project action: 404 unless the project is in the caller's account and
    /// the caller has a role on it; 403 if that role is too weak.
    pub async fn project(
        &self,
        db: &Db,
        principal: &Principal,
        project_id: &str,
        action: ProjectAction,
    ) -> Result<ProjectAccess, Error> {
        let row = store::members::project_role(
            db,
            principal.account.as_str(),
            project_id,
            &principal.user_id,
        )
        .await?;
        let Some(explicit) = row else {
            return Err(Error::not_found("project"));
        };
        let explicit = explicit.as_deref().map(stored::<ProjectRole>).transpose()?;
        let mut role = principal.account_role.implied_project_role().max(explicit);
        if let Some((scoped_project, scoped_role)) = principal.project_scope() {
            role = if scoped_project == project_id {
                role.map(|r| r.min(scoped_role))
            } else {
                None
            };
        }
        let Some(role) = role else {
            return Err(Error::not_found("project"));
        };
        if !self.project_role_allows(role, action) {
            let needed = self.weakest_project_role_for(action).map_or_else(
                || "no role".to_owned(),
                |r| format!("the project role {r} or above"),
            );
            return Err(Error::forbidden(format!(
                "this needs {needed}; you are {role} in this project"
            )));
        }
        Ok(ProjectAccess {
            account: principal.account.clone(),
            project_id: project_id.to_owned(),
            scope: ProjectScope::granted(db, principal.account.as_str(), project_id),
            role,
            user_id: principal.user_id.clone(),
            plan: principal.plan.clone(),
        })
    }
}

/// Which projects an account-level caller sees in lists.
pub enum ProjectVisibility {
    All,
    /// Those with a `project_members` row for this user.
    MemberOf(String),
    /// A token scoped to one project.
    Only(String),
}

/// The caller's account, after an account-level check.
#[derive(Debug, Clone)]
pub struct AccountAccess {
    account: AccountId,
    scope: AccountScope,
    role: AccountRole,
    user_id: String,
    plan: String,
    project_scope: Option<String>,
}

impl AccountAccess {
    pub fn account(&self) -> &AccountId {
        &self.account
    }
    /// The account's data, scoped to it.
    pub fn scope(&self) -> &AccountScope {
        &self.scope
    }
    pub fn role(&self) -> AccountRole {
        self.role
    }
    pub fn user_id(&self) -> &str {
        &self.user_id
    }
    pub fn plan(&self) -> &str {
        &self.plan
    }
    pub fn is_project_scoped(&self) -> bool {
        self.project_scope.is_some()
    }
    pub fn project_visibility(&self) -> ProjectVisibility {
        match (&self.project_scope, self.role.implied_project_role()) {
            (Some(project), _) => ProjectVisibility::Only(project.clone()),
            (None, Some(_)) => ProjectVisibility::All,
            (None, None) => ProjectVisibility::MemberOf(self.user_id.clone()),
        }
    }
}

/// A project of the caller's account, after a project-level check.
#[derive(Debug, Clone)]
pub struct ProjectAccess {
    account: AccountId,
    project_id: String,
    scope: ProjectScope,
    role: ProjectRole,
    user_id: String,
    plan: String,
}

impl ProjectAccess {
    pub fn account(&self) -> &AccountId {
        &self.account
    }
    pub fn project_id(&self) -> &str {
        &self.project_id
    }
    /// The project's data, scoped to it and its account.
    pub fn scope(&self) -> &ProjectScope {
        &self.scope
    }
    pub fn role(&self) -> ProjectRole {
        self.role
    }
    pub fn user_id(&self) -> &str {
        &self.user_id
    }
    pub fn plan(&self) -> &str {
        &self.plan
    }
}

/// A permission a handler declares in its signature: `ProjectGuard<WriteDrafts>`.
pub trait ProjectPermission {
    const ACTION: ProjectAction;
}

/// A permission on the account: `AccountGuard<ManageMembers>`.
pub trait AccountPermission {
    const ACTION: AccountAction;
}

macro_rules! permissions {
    ($trait:ident, $action:ident: $($name:ident),*) => {$(
        #[derive(Debug)]
        pub struct $name;
        impl $trait for $name {
            const ACTION: $action = $action::$name;
        }
    )*};
}

/// Project permissions, named like the actions they stand for.
pub mod can {
    use super::{ProjectAction, ProjectPermission};
    permissions!(ProjectPermission, ProjectAction: Read, WriteDrafts, Deploy, ManageConnections, ManageMembers, Update, Delete);

    /// Account permissions.
    pub mod account {
        use super::super::{AccountAction, AccountPermission};
        permissions!(AccountPermission, AccountAction: Read, CreateProject, ManageMembers, ReadAudit, ReadBilling, PayBilling, ManageClusters, ManageNotifications, ManageTokens, ReadAccountWide);
    }
}

/// Extractor: the project named by the `project_id` path parameter, checked for `P`.
pub struct ProjectGuard<P> {
    pub access: ProjectAccess,
    pub principal: Principal,
    permission: PhantomData<P>,
}

impl<P> std::ops::Deref for ProjectGuard<P> {
    type Target = ProjectAccess;
    fn deref(&self) -> &ProjectAccess {
        &self.access
    }
}

impl<P: ProjectPermission + Send> FromRequestParts<AppState> for ProjectGuard<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::not_found("project"))?;
        let project_id = params
            .iter()
            .find(|(name, _)| *name == "project_id")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| Error::internal("a project route without a project_id parameter"))?;
        let access = state
            .authz
            .project(&state.db, &principal, &project_id, P::ACTION)
            .await?;
        Ok(Self {
            access,
            principal,
            permission: PhantomData,
        })
    }
}

/// Extractor: the caller's account, checked for `P`.
pub struct AccountGuard<P> {
    pub access: AccountAccess,
    pub principal: Principal,
    permission: PhantomData<P>,
}

impl<P> std::ops::Deref for AccountGuard<P> {
    type Target = AccountAccess;
    fn deref(&self) -> &AccountAccess {
        &self.access
    }
}

impl<P: AccountPermission + Send> FromRequestParts<AppState> for AccountGuard<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let access = state.authz.account(&state.db, &principal, P::ACTION)?;
        Ok(Self {
            access,
            principal,
            permission: PhantomData,
        })
    }
}

/// Extractor: a platform operator (above accounts), acting with a full-scope credential.
/// Operators set product-form and engine-version lifecycles.
pub struct PlatformAdmin {
    pub principal: Principal,
}

impl FromRequestParts<AppState> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let operator = store::accounts::is_platform_admin(&state.db, &principal.user_id).await?;
        if !operator || principal.project_scope().is_some() {
            return Err(Error::forbidden(
                "this is for platform operators (sluice admin grant-operator), with a credential not narrowed to a project",
            ).into());
        }
        Ok(Self { principal })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_policy_gives_each_project_role_what_the_product_says() {
        let authz = Authorizer::load().await.unwrap();
        let can = |r, a| authz.project_role_allows(r, a);
        assert!(can(ProjectRole::Viewer, ProjectAction::Read));
        assert!(!can(ProjectRole::Viewer, ProjectAction::WriteDrafts));
        assert!(can(ProjectRole::Editor, ProjectAction::WriteDrafts));
        assert!(can(ProjectRole::Editor, ProjectAction::Deploy));
        assert!(!can(ProjectRole::Editor, ProjectAction::ManageConnections));
        assert!(can(ProjectRole::Admin, ProjectAction::ManageMembers));
        assert!(can(ProjectRole::Admin, ProjectAction::ManageConnections));
        assert!(!can(ProjectRole::Admin, ProjectAction::Delete));
        assert!(can(ProjectRole::Owner, ProjectAction::Delete));
    }

    #[tokio::test]
    async fn the_policy_gives_each_account_role_what_the_product_says() {
        let authz = Authorizer::load().await.unwrap();
        let can = |r, a| authz.account_role_allows(r, a);
        assert!(can(AccountRole::Member, AccountAction::Read));
        assert!(!can(AccountRole::Member, AccountAction::CreateProject));
        assert!(can(AccountRole::BillingManager, AccountAction::PayBilling));
        assert!(!can(
            AccountRole::BillingManager,
            AccountAction::ManageMembers
        ));
        assert!(can(AccountRole::Admin, AccountAction::ReadAudit));
        assert!(!can(AccountRole::Admin, AccountAction::PayBilling));
        assert!(can(AccountRole::Owner, AccountAction::PayBilling));
        assert!(can(AccountRole::Owner, AccountAction::ManageMembers));
    }
}
