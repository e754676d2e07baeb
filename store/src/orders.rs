//! Orders: subscriptions bought, renewed and changed.
//!
//! An order is planned and placed inside one write transaction ([`OrderDesk`]): the
//! project it is for is locked and read with its subscription, the capacity its
//! deployments hold and its unused temporary upgrades; placing it records the order
//! and its effect. A preview plans in a transaction of its own that is rolled back
//! ([`AccountScope::preview_orders`]); placing one does so in the account's write,
//! whose lock also guards the balance that pays it.

use crate::capacity::{self, Purchased};
use crate::db::{new_id, Tx};
use crate::product_forms::{self, ProductFormRow};
use crate::scope::{AccountScope, AccountWrite};
use crate::{Error, Page};

/// The project an order is for: its billing model and its account's billing zone.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderedProjectRow {
    pub billing_model: String,
    pub billing_time_zone: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub cu_milli: i64,
    pub term_start: i64,
    pub term_end: i64,
    pub term_months: i64,
}

/// A temporary upgrade's window and what was paid for it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaidWindowRow {
    pub starts_at: i64,
    pub ends_at: i64,
    pub amount_minor: i64,
}

crate::stored_enum! {
    /// What an order does to a project's subscription.
    pub enum OrderKind {
        NewPurchase = "new_purchase",
        Renew = "renew",
        Upgrade = "upgrade",
        Downgrade = "downgrade",
        RenewChange = "renew_change",
        TemporaryUpgrade = "temporary_upgrade",
        Unsubscribe = "unsubscribe",
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: String,
    pub kind: OrderKind,
    pub project_id: String,
    pub cu_milli: i64,
    pub months: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
}

/// An order to record.
pub struct NewOrder<'a> {
    pub id: &'a str,
    pub project_id: &'a str,
    pub kind: OrderKind,
    pub cu_milli: i64,
    pub months: i64,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub created_by: &'a str,
    pub created_at: i64,
    /// temporary_upgrade: the window of the extra CU.
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
}

/// A subscription's term as an order leaves it (instants in ms).
#[derive(Debug, Clone, Copy)]
pub struct Term {
    pub start: i64,
    pub end: i64,
    pub months: i64,
}

/// `for update` on the database `tx` runs on: a write handle holds no `Db`.
fn for_update(tx: &Tx) -> &'static str {
    if tx.backend_name() == <sqlx::Postgres as sqlx::Database>::NAME {
        " for update"
    } else {
        ""
    }
}

/// A transaction to plan an order in without placing it: rolled back, never
/// committed; it locks the project asked about, not the account.
pub struct OrderPreview {
    tx: Tx,
    account_id: String,
}

impl AccountScope {
    pub async fn preview_orders(&self) -> Result<OrderPreview, Error> {
        Ok(OrderPreview {
            tx: self.db().begin_write().await?,
            account_id: self.account_id().to_owned(),
        })
    }
}

impl OrderPreview {
    pub fn orders(&mut self) -> OrderDesk<'_> {
        OrderDesk {
            tx: &mut self.tx,
            account_id: &self.account_id,
        }
    }

    /// Ends the preview, keeping nothing.
    pub async fn rollback(self) -> Result<(), Error> {
        self.tx.rollback().await?;
        Ok(())
    }
}

impl AccountWrite {
    /// Orders placed under the account's lock (which also guards its balance).
    pub fn orders(&mut self) -> OrderDesk<'_> {
        let (tx, account_id) = self.parts();
        OrderDesk { tx, account_id }
    }
}

/// The account's orders inside a write transaction.
pub struct OrderDesk<'a> {
    tx: &'a mut Tx,
    account_id: &'a str,
}

impl OrderDesk<'_> {
    /// Locks one of the account's projects for the order; not found (on `project_id`)
    /// when the account has no such project.
    pub async fn lock_project(&mut self, project_id: &str) -> Result<OrderedProjectRow, Error> {
        let row: Option<OrderedProjectRow> = sqlx::query_as(&format!(
            "select p.billing_model, a.billing_time_zone from projects p join accounts a on a.id = p.account_id
              where p.id = $1 and p.account_id = $2{}",
            for_update(self.tx)
        ))
        .bind(project_id)
        .bind(self.account_id)
        .fetch_optional(&mut **self.tx)
        .await?;
        row.ok_or_else(|| Error::not_found("project").with_field("project_id"))
    }

    /// The schedule of the project's product form, if it has one.
    pub async fn product_form(
        &mut self,
        project_id: &str,
    ) -> Result<Option<ProductFormRow>, Error> {
        product_forms::schedule_of_project(self.tx, project_id).await
    }

    pub async fn subscription(
        &mut self,
        project_id: &str,
    ) -> Result<Option<SubscriptionRow>, Error> {
        Ok(sqlx::query_as(
            "select cu_milli, term_start, term_end, term_months from subscriptions where project_id = $1",
        )
        .bind(project_id)
        .fetch_optional(&mut **self.tx)
        .await?)
    }

    /// CU (milli) held by the project's deployments meant to run.
    pub async fn in_use(&mut self, project_id: &str) -> Result<i64, Error> {
        capacity::in_use(self.tx, project_id, None).await
    }

    /// What the subscription project may hold at `at_ms`.
    pub async fn purchased(
        &mut self,
        project_id: &str,
        at_ms: i64,
    ) -> Result<Option<Purchased>, Error> {
        capacity::purchased(self.tx, project_id, at_ms).await
    }

    /// Temporary upgrades not used up by `now_ms`, which an unsubscribe refunds with
    /// the term.
    pub async fn unused_windows(
        &mut self,
        project_id: &str,
        now_ms: i64,
    ) -> Result<Vec<PaidWindowRow>, Error> {
        Ok(sqlx::query_as(
            "select starts_at, ends_at, amount_minor from temporary_upgrades where project_id = $1 and ends_at > $2",
        )
        .bind(project_id)
        .bind(now_ms)
        .fetch_all(&mut **self.tx)
        .await?)
    }

    pub async fn insert(&mut self, order: &NewOrder<'_>) -> Result<(), Error> {
        sqlx::query(
            "insert into orders (id, account_id, project_id, kind, cu_milli, months, amount_minor, currency, created_by, created_at,
                                 starts_at, ends_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(order.id)
        .bind(self.account_id)
        .bind(order.project_id)
        .bind(order.kind)
        .bind(order.cu_milli)
        .bind(order.months)
        .bind(order.amount_minor)
        .bind(order.currency)
        .bind(order.created_by)
        .bind(order.created_at)
        .bind(order.starts_at)
        .bind(order.ends_at)
        .execute(&mut **self.tx)
        .await?;
        Ok(())
    }

    /// A temporary upgrade's window, paid by `order_id`.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_temporary_upgrade(
        &mut self,
        project_id: &str,
        order_id: &str,
        cu_milli: i64,
        starts_at: i64,
        ends_at: i64,
        amount_minor: i64,
        now_ms: i64,
    ) -> Result<(), Error> {
        sqlx::query(
            "insert into temporary_upgrades (id, project_id, account_id, order_id, cu_milli, starts_at, ends_at, amount_minor, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id())
        .bind(project_id)
        .bind(self.account_id)
        .bind(order_id)
        .bind(cu_milli)
        .bind(starts_at)
        .bind(ends_at)
        .bind(amount_minor)
        .bind(now_ms)
        .execute(&mut **self.tx)
        .await?;
        Ok(())
    }

    /// The project subscribes: its subscription, and its billing model.
    pub async fn subscribe(
        &mut self,
        project_id: &str,
        cu_milli: i64,
        term: Term,
        now_ms: i64,
    ) -> Result<(), Error> {
        sqlx::query(
            "insert into subscriptions (project_id, account_id, cu_milli, term_start, term_end, term_months, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(project_id)
        .bind(self.account_id)
        .bind(cu_milli)
        .bind(term.start)
        .bind(term.end)
        .bind(term.months)
        .bind(now_ms)
        .execute(&mut **self.tx)
        .await?;
        sqlx::query("update projects set billing_model = 'subscription' where id = $1")
            .bind(project_id)
            .execute(&mut **self.tx)
            .await?;
        Ok(())
    }

    /// The project returns to pay-as-you-go: its subscription goes, and its temporary
    /// upgrades not used yet end now (they are refunded with the term).
    pub async fn unsubscribe(&mut self, project_id: &str, now_ms: i64) -> Result<(), Error> {
        sqlx::query("delete from subscriptions where project_id = $1")
            .bind(project_id)
            .execute(&mut **self.tx)
            .await?;
        // Refunded with the term: windows not used yet end now.
        sqlx::query(
            "update temporary_upgrades set ends_at = $1 where project_id = $2 and ends_at > $1",
        )
        .bind(now_ms)
        .bind(project_id)
        .execute(&mut **self.tx)
        .await?;
        sqlx::query("update projects set billing_model = 'payg' where id = $1")
            .bind(project_id)
            .execute(&mut **self.tx)
            .await?;
        Ok(())
    }

    /// The subscription's CU and term change: a renewal extends the term from its
    /// anchor (`term_start`, kept), or, once the term has ended, starts a new one.
    pub async fn change_subscription(
        &mut self,
        project_id: &str,
        cu_milli: i64,
        term: Term,
        now_ms: i64,
    ) -> Result<(), Error> {
        sqlx::query(
            "update subscriptions set cu_milli = $1, term_start = $6, term_end = $2, term_months = $3, updated_at = $4 where project_id = $5",
        )
        .bind(cu_milli)
        .bind(term.end)
        .bind(term.months)
        .bind(now_ms)
        .bind(project_id)
        .bind(term.start)
        .execute(&mut **self.tx)
        .await?;
        Ok(())
    }
}

/// A subscription of the account with its capacity now.
#[derive(Debug, Clone)]
pub struct SubscriptionCapacityRow {
    pub project_id: String,
    pub term_start: i64,
    pub term_end: i64,
    /// Whether the term renews itself, and for how many months.
    pub auto_renew: bool,
    pub renewal_months: i64,
    pub purchased: Purchased,
    /// CU (milli) held by the project's deployments meant to run.
    pub in_use: i64,
    /// Temporary upgrades open now or to come, by start.
    pub windows: Vec<WindowRow>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WindowRow {
    pub order_id: String,
    pub cu_milli: i64,
    pub starts_at: i64,
    pub ends_at: i64,
}

/// The account's orders and subscriptions, read outside a write.
pub struct Orders<'a>(&'a AccountScope);

impl AccountScope {
    pub fn orders(&self) -> Orders<'_> {
        Orders(self)
    }
}

impl Orders<'_> {
    /// One page, newest first (`page.limit + 1` rows: the extra one tells that more
    /// exist).
    pub async fn list(&self, page: &Page) -> Result<Vec<OrderRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select id, kind, project_id, cu_milli, months, amount_minor, currency, starts_at, ends_at, created_by, created_at
               from orders where account_id = $1 and id < $2 order by id desc limit $3",
        )
        .bind(scope.account_id())
        .bind(page.before())
        .bind(page.limit + 1)
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// The account's subscriptions by project, each with what it may hold and holds at
    /// `now_ms` and its temporary upgrades not ended (one unsubscribed since the list
    /// was read is left out).
    pub async fn subscriptions(&self, now_ms: i64) -> Result<Vec<SubscriptionCapacityRow>, Error> {
        let scope = self.0;
        let rows: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
            "select project_id, term_start, term_end, auto_renew, renewal_months from subscriptions
              where account_id = $1 order by project_id",
        )
        .bind(scope.account_id())
        .fetch_all(&scope.db().pool)
        .await?;
        let mut conn = scope.db().pool.acquire().await?;
        let mut items = Vec::with_capacity(rows.len());
        for (project_id, term_start, term_end, auto_renew, renewal_months) in rows {
            let Some(purchased) = capacity::purchased(&mut conn, &project_id, now_ms).await? else {
                continue; // unsubscribed since the list was read
            };
            let in_use = capacity::in_use(&mut conn, &project_id, None).await?;
            let windows: Vec<WindowRow> = sqlx::query_as(
                "select order_id, cu_milli, starts_at, ends_at from temporary_upgrades
                  where project_id = $1 and ends_at > $2 order by starts_at",
            )
            .bind(&project_id)
            .bind(now_ms)
            .fetch_all(&mut *conn)
            .await?;
            items.push(SubscriptionCapacityRow {
                project_id,
                term_start,
                term_end,
                auto_renew: auto_renew != 0,
                renewal_months,
                purchased,
                in_use,
                windows,
            });
        }
        Ok(items)
    }
}

impl<'a> OrderDesk<'a> {
    /// The desk over a transaction that holds the account's lock, for orders placed by
    /// the platform (an automatic renewal: [`crate::AllTenantsWrite::orders_of`]).
    pub(crate) fn over(tx: &'a mut Tx, account_id: &'a str) -> Self {
        Self { tx, account_id }
    }
}
