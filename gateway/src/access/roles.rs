//! The roles of the product, at account and at project level.

use std::fmt;
use std::str::FromStr;
use store::Error;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A person's role in an account. `member` has no account powers of its own and
/// reaches projects only through project roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    Owner,
    Admin,
    BillingManager,
    Member,
}

/// A person's role in a project, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectRole {
    // Declared weakest first so `Ord` ranks them.
    Viewer,
    Editor,
    Admin,
    Owner,
}

impl AccountRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::BillingManager => "billing_manager",
            Self::Member => "member",
        }
    }

    /// Account owners and admins act as owners of every project in the account.
    pub fn implied_project_role(self) -> Option<ProjectRole> {
        match self {
            Self::Owner | Self::Admin => Some(ProjectRole::Owner),
            Self::BillingManager | Self::Member => None,
        }
    }

    /// Whether a holder of `self` may hand out `granted`: only owners make owners.
    pub fn may_grant(self, granted: AccountRole) -> bool {
        match (self, granted) {
            (Self::Owner, _) => true,
            (Self::Admin, Self::Owner) => false,
            (Self::Admin, _) => true,
            (Self::BillingManager | Self::Member, _) => false,
        }
    }
}

impl ProjectRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }
}

impl fmt::Display for AccountRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ProjectRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccountRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "billing_manager" => Ok(Self::BillingManager),
            "member" => Ok(Self::Member),
            other => Err(format!(
                "`{other}` is not an account role (owner, admin, billing_manager, member)"
            )),
        }
    }
}

impl FromStr for ProjectRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "editor" => Ok(Self::Editor),
            "viewer" => Ok(Self::Viewer),
            other => Err(format!(
                "`{other}` is not a project role (owner, admin, editor, viewer)"
            )),
        }
    }
}

/// Reads a role stored by us; a value we did not write is a server error, not the caller's.
pub fn stored<R: FromStr<Err = String>>(value: &str) -> Result<R, Error> {
    value
        .parse()
        .map_err(|e: String| Error::internal(format!("unreadable role in the database: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_roles_rank_from_viewer_to_owner() {
        assert!(ProjectRole::Viewer < ProjectRole::Editor);
        assert!(ProjectRole::Editor < ProjectRole::Admin);
        assert!(ProjectRole::Admin < ProjectRole::Owner);
    }

    #[test]
    fn only_owners_grant_ownership() {
        assert!(AccountRole::Owner.may_grant(AccountRole::Owner));
        assert!(!AccountRole::Admin.may_grant(AccountRole::Owner));
        assert!(AccountRole::Admin.may_grant(AccountRole::BillingManager));
        assert!(!AccountRole::Member.may_grant(AccountRole::Member));
    }

    #[test]
    fn roles_round_trip_through_text() {
        for r in [
            ProjectRole::Owner,
            ProjectRole::Admin,
            ProjectRole::Editor,
            ProjectRole::Viewer,
        ] {
            assert_eq!(r.as_str().parse::<ProjectRole>(), Ok(r));
        }
        for r in [
            AccountRole::Owner,
            AccountRole::Admin,
            AccountRole::BillingManager,
            AccountRole::Member,
        ] {
            assert_eq!(r.as_str().parse::<AccountRole>(), Ok(r));
        }
        assert!("root".parse::<AccountRole>().is_err());
    }
}
