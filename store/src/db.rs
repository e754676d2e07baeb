//! Storage on SQLite (embedded default) and PostgreSQL (production, many replicas).
//!
//! Strategy: one set of portable SQL on sqlx's `Any` driver, one migration tree that
//! both backends run. We chose it over a backend trait per store (atuin's way) because
//! the schema is a plain relational one that both engines express identically, and one
//! code path means one set of bugs; every end-to-end test runs against both backends.
//!
//! The cost, accepted on purpose:
//! - no compile-time checked queries (`query!` does not support `Any`), so every query
//!   is exercised by the end-to-end suite instead;
//! - only the types `Any` carries: ids are UUIDv7 text (time-ordered, so they double as
//!   pagination cursors), instants are `bigint` Unix milliseconds, JSON is text;
//! - the few real dialect differences live here: how a write transaction takes its
//!   lock (`begin_write`) and the row-lock suffix (`for_update`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Transaction};

pub type Tx = Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

impl Db {
    /// Connects (creating the SQLite file and its directory if needed) and runs migrations.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("database.url must start with sqlite:// or postgres://");
        };
        let mut url = url.to_owned();
        if backend == Backend::Sqlite {
            if let Some(path) = url
                .strip_prefix("sqlite://")
                .map(|p| p.split('?').next().unwrap_or(p).to_owned())
            {
                if let Some(dir) = std::path::Path::new(&path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir)?;
                    }
                }
            }
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
        }
        let options = AnyConnectOptions::from_str(&url)?;
        let max = match (max_connections, backend) {
            (0, Backend::Sqlite) => 8,
            (0, Backend::Postgres) => 16,
            (n, _) => n,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; foreign keys are off by
                        // default in SQLite; writers wait for the lock instead of failing.
                        conn.execute("pragma journal_mode = wal").await?;
                        conn.execute("pragma foreign_keys = on").await?;
                        conn.execute("pragma busy_timeout = 30000").await?;
                        conn.execute("pragma synchronous = normal").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool, backend })
    }

    /// Starts a transaction that will write. On SQLite it takes the database's write
    /// lock up front (`BEGIN IMMEDIATE`): a deferred transaction that read first could
    /// not upgrade once another writer committed. On PostgreSQL, writers serialise on
    /// the parent row they lock with [`Db::for_update`].
    ///
    /// Inside [`with_write_hook`] the hook writes first, inside the transaction:
    /// serving a mutation, that is the request's audit row, so the change never
    /// commits without it.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        let mut tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("begin immediate").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        if let Ok(hook) = WRITE_HOOK.try_with(Arc::clone) {
            hook.file_in(&mut tx).await?;
        }
        Ok(tx)
    }

    /// Row-lock suffix for a `select` that guards a limit or an invariant.
    pub fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " for update",
        }
    }

    /// Connections open in the pool and, of those, idle.
    pub fn connections(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Closes the pool, waiting for connections in use to come back (SQLite then
    /// checkpoints its write-ahead log).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

/// [`Db::for_update`] for the database `tx` runs on, where a write handle holds no
/// [`Db`].
pub(crate) fn for_update_in(tx: &Tx) -> &'static str {
    if tx.backend_name() == <sqlx::Postgres as sqlx::Database>::NAME {
        " for update"
    } else {
        ""
    }
}

/// Now as Unix milliseconds, the form every instant is stored in.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Something to write inside every write transaction of a piece of work, before the
/// work's own writes (the audit row of the API request being served).
pub trait WriteHook: Send + Sync {
    fn file_in<'a>(
        &'a self,
        tx: &'a mut Tx,
    ) -> futures_util::future::BoxFuture<'a, Result<(), sqlx::Error>>;
}

tokio::task_local! {
    static WRITE_HOOK: Arc<dyn WriteHook>;
}

/// Runs `work` with `hook` called first in each write transaction it begins.
pub async fn with_write_hook<F: std::future::Future>(
    hook: Arc<dyn WriteHook>,
    work: F,
) -> F::Output {
    WRITE_HOOK.scope(hook, work).await
}

/// A closed set of names stored as text: each variant is written as its name and a
/// row holding any other text fails to load, naming the column's set, rather than
/// flowing on as an unknown string.
#[macro_export]
macro_rules! stored_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// The variant stored as `text`, if it is one.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::sqlx::Type<$crate::sqlx::Any> for $name {
            fn type_info() -> $crate::sqlx::any::AnyTypeInfo {
                <String as $crate::sqlx::Type<$crate::sqlx::Any>>::type_info()
            }
            fn compatible(ty: &$crate::sqlx::any::AnyTypeInfo) -> bool {
                <String as $crate::sqlx::Type<$crate::sqlx::Any>>::compatible(ty)
            }
        }

        impl<'r> $crate::sqlx::Decode<'r, $crate::sqlx::Any> for $name {
            fn decode(value: $crate::sqlx::any::AnyValueRef<'r>) -> Result<Self, $crate::sqlx::error::BoxDynError> {
                let text = <String as $crate::sqlx::Decode<'r, $crate::sqlx::Any>>::decode(value)?;
                Self::parse(&text).ok_or_else(|| {
                    format!("`{text}` is not a {} ({})", stringify!($name),
                        [$($text),+].join(", ")).into()
                })
            }
        }

        impl<'q> $crate::sqlx::Encode<'q, $crate::sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <$crate::sqlx::Any as $crate::sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<$crate::sqlx::encode::IsNull, $crate::sqlx::error::BoxDynError> {
                <&str as $crate::sqlx::Encode<'q, $crate::sqlx::Any>>::encode_by_ref(&self.as_str(), buf)
            }
        }
    };
}
