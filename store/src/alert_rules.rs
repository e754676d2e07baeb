//! Alert rules: a condition watched on one deployment of a project (or all of them),
//! its terms and severity, and the contact group it tells. Reads through a
//! [`ProjectScope`], writes through a [`ProjectWrite`] (the project locked), so every
//! query here is already scoped.

use crate::alerts::{AlertPass, AlertState};
use crate::all_tenants::AllTenants;
use crate::db::{new_id, now_ms};
use crate::scope::{ProjectScope, ProjectWrite};
use crate::Error;

crate::stored_enum! {
    /// How urgent a rule's alerts are, P0 the most.
    pub enum Severity {
        P0 = "P0",
        P1 = "P1",
        P2 = "P2",
        P3 = "P3",
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertRuleRow {
    pub id: String,
    pub name: String,
    /// Absent: every deployment of the project.
    pub deployment_id: Option<String>,
    /// The condition's name as stored.
    pub condition: String,
    pub threshold: i64,
    pub window_secs: i64,
    pub severity: Severity,
    pub contact_group_id: String,
    pub repeat_secs: i64,
    /// 1 when enabled, 0 when not.
    pub enabled: i64,
    pub created_at: i64,
}

/// A rule's fields that can change once it exists.
#[derive(Debug, Clone)]
pub struct RuleTerms<'a> {
    pub name: &'a str,
    pub threshold: i64,
    pub window_secs: i64,
    pub severity: Severity,
    pub contact_group_id: &'a str,
    pub repeat_secs: i64,
}

const COLUMNS: &str =
    "r.id, r.name, r.deployment_id, r.condition, r.threshold, r.window_secs, r.severity, \
                       r.contact_group_id, r.repeat_secs, r.enabled, r.created_at";

/// The project's alert rules, as the caller may read them.
pub struct AlertRules<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn alert_rules(&self) -> AlertRules<'_> {
        AlertRules(self)
    }
}

impl AlertRules<'_> {
    /// Every rule of the project, in name order.
    pub async fn list(&self) -> Result<Vec<AlertRuleRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {COLUMNS} from alert_rules r join projects p on p.id = r.project_id
              where p.account_id = $1 and r.project_id = $2 order by r.name"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .fetch_all(&scope.db().pool)
        .await?)
    }
}

/// A project with enabled rules, for the alert pass.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RuledProjectRow {
    pub project_id: String,
    pub account_id: String,
}

impl AllTenants {
    /// Every project with enabled alert rules, in id order.
    pub async fn projects_with_enabled_rules(&self) -> Result<Vec<RuledProjectRow>, Error> {
        Ok(sqlx::query_as(
            "select distinct r.project_id, p.account_id from alert_rules r join projects p on p.id = r.project_id
              where r.enabled = 1 order by r.project_id",
        )
        .fetch_all(&self.db().pool)
        .await?)
    }
}

impl AlertPass<'_> {
    /// The project's enabled rules, in id order.
    pub async fn enabled_rules(&mut self, project_id: &str) -> Result<Vec<AlertRuleRow>, Error> {
        let tx = self.0.tx();
        Ok(sqlx::query_as(&format!(
            "select {COLUMNS} from alert_rules r where r.project_id = $1 and r.enabled = 1 order by r.id"
        ))
        .bind(project_id)
        .fetch_all(&mut **tx)
        .await?)
    }
}

/// The project's alert rules inside its locked write transaction.
pub struct AlertRuleWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn alert_rules(&mut self) -> AlertRuleWrites<'_> {
        AlertRuleWrites(self)
    }
}

/// A unique index caught a name already taken in the project.
fn name_taken(e: sqlx::Error) -> Error {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => Error::already_exists(
            "name",
            "the project already has an alert rule with this name",
        ),
        other => other.into(),
    }
}

impl AlertRuleWrites<'_> {
    pub async fn get(&mut self, rule_id: &str) -> Result<AlertRuleRow, Error> {
        let (tx, project_id) = self.0.parts();
        let row: Option<AlertRuleRow> = sqlx::query_as(&format!(
            "select {COLUMNS} from alert_rules r where r.id = $1 and r.project_id = $2"
        ))
        .bind(rule_id)
        .bind(project_id)
        .fetch_optional(&mut **tx)
        .await?;
        row.ok_or_else(|| Error::not_found("alert rule"))
    }

    /// Whether `rule_id` is an alert rule of the project.
    pub async fn exists(&mut self, rule_id: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let (found,): (i64,) =
            sqlx::query_as("select count(*) from alert_rules where id = $1 and project_id = $2")
                .bind(rule_id)
                .bind(project_id)
                .fetch_one(&mut **tx)
                .await?;
        Ok(found > 0)
    }

    /// Whether `deployment_id` is a deployment of the project.
    pub async fn is_project_deployment(&mut self, deployment_id: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let (found,): (i64,) =
            sqlx::query_as("select count(*) from deployments where id = $1 and project_id = $2")
                .bind(deployment_id)
                .bind(project_id)
                .fetch_one(&mut **tx)
                .await?;
        Ok(found > 0)
    }

    /// A new rule, enabled, watching `deployment_id` (`None`: every deployment).
    pub async fn insert(
        &mut self,
        deployment_id: Option<&str>,
        condition: &str,
        terms: &RuleTerms<'_>,
        created_by: &str,
    ) -> Result<AlertRuleRow, Error> {
        let (tx, project_id) = self.0.parts();
        let row = AlertRuleRow {
            id: new_id(),
            name: terms.name.to_owned(),
            deployment_id: deployment_id.map(str::to_owned),
            condition: condition.to_owned(),
            threshold: terms.threshold,
            window_secs: terms.window_secs,
            severity: terms.severity,
            contact_group_id: terms.contact_group_id.to_owned(),
            repeat_secs: terms.repeat_secs,
            enabled: 1,
            created_at: now_ms(),
        };
        sqlx::query(
            "insert into alert_rules (id, project_id, name, deployment_id, condition, threshold, window_secs, severity,
                                      contact_group_id, repeat_secs, enabled, created_by, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&row.id)
        .bind(project_id)
        .bind(&row.name)
        .bind(&row.deployment_id)
        .bind(&row.condition)
        .bind(row.threshold)
        .bind(row.window_secs)
        .bind(row.severity)
        .bind(&row.contact_group_id)
        .bind(row.repeat_secs)
        .bind(row.enabled)
        .bind(created_by)
        .bind(row.created_at)
        .execute(&mut **tx)
        .await
        .map_err(name_taken)?;
        Ok(row)
    }

    /// Changes a rule's terms and turns it on or off (its condition and deployment
    /// stay).
    pub async fn update(
        &mut self,
        rule_id: &str,
        terms: &RuleTerms<'_>,
        enabled: bool,
    ) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query(
            "update alert_rules set name = $1, threshold = $2, window_secs = $3, severity = $4, contact_group_id = $5,
                                    repeat_secs = $6, enabled = $7
              where id = $8 and project_id = $9",
        )
        .bind(terms.name)
        .bind(terms.threshold)
        .bind(terms.window_secs)
        .bind(terms.severity)
        .bind(terms.contact_group_id)
        .bind(terms.repeat_secs)
        .bind(i64::from(enabled))
        .bind(rule_id)
        .bind(project_id)
        .execute(&mut **tx)
        .await
        .map_err(name_taken)?;
        Ok(())
    }

    /// Ends what the rule has firing now (unannounced: nobody is told).
    pub async fn resolve_firing(&mut self, rule_id: &str) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query(
            "update alerts set state = $1, resolved_at = $2 where rule_id = $3 and state = $4 and project_id = $5",
        )
        .bind(AlertState::Resolved)
        .bind(now_ms())
        .bind(rule_id)
        .bind(AlertState::Firing)
        .bind(project_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Not found unless the rule is the project's.
    pub async fn delete(&mut self, rule_id: &str) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        let done = sqlx::query("delete from alert_rules where id = $1 and project_id = $2")
            .bind(rule_id)
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("alert rule"));
        }
        Ok(())
    }
}
