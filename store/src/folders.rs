//! Folders: a tree per project. Reads through a [`ProjectScope`], writes through a
//! [`ProjectWrite`] (the project locked), so every query here is already scoped.

use std::collections::HashMap;

use crate::db::{new_id, now_ms};
use crate::scope::{ProjectScope, ProjectWrite};
use crate::{Error, Page};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FolderRow {
    pub id: String,
    pub project_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "f.id, f.project_id, f.parent_id, f.name, f.created_at, f.updated_at";

/// The project's folders, as the caller may read them.
pub struct Folders<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn folders(&self) -> Folders<'_> {
        Folders(self)
    }
}

impl Folders<'_> {
    /// One page in id order (`page.fetch()` rows: the extra one tells that more exist).
    pub async fn list(&self, page: &Page) -> Result<Vec<FolderRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {COLUMNS} from folders f join projects p on p.id = f.project_id
              where p.account_id = $1 and f.project_id = $2 and f.id > $3 order by f.id limit $4"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(&page.after)
        .bind(page.fetch())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    pub async fn get(&self, id: &str) -> Result<FolderRow, Error> {
        let scope = self.0;
        let row: Option<FolderRow> = sqlx::query_as(&format!(
            "select {COLUMNS} from folders f join projects p on p.id = f.project_id
              where p.account_id = $1 and f.project_id = $2 and f.id = $3"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(id)
        .fetch_optional(&scope.db().pool)
        .await?;
        row.ok_or_else(|| Error::not_found("folder"))
    }
}

/// The project's folders inside its locked write transaction.
pub struct FolderWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn folders(&mut self) -> FolderWrites<'_> {
        FolderWrites(self)
    }
}

impl FolderWrites<'_> {
    pub async fn tree(&mut self) -> Result<FolderTree, Error> {
        let (tx, project_id) = self.0.parts();
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("select id, parent_id from folders where project_id = $1")
                .bind(project_id)
                .fetch_all(&mut **tx)
                .await?;
        Ok(FolderTree {
            parent: rows.into_iter().collect(),
        })
    }

    pub async fn count(&mut self) -> Result<i64, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as("select count(*) from folders where project_id = $1")
            .bind(project_id)
            .fetch_one(&mut **tx)
            .await?;
        Ok(n)
    }

    /// Jobs and folders directly inside `folder_id` (`None`: the project root).
    pub async fn count_entries(&mut self, folder_id: Option<&str>) -> Result<i64, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as(
            "select (select count(*) from folders where project_id = $1 and coalesce(parent_id, '') = $2)
                  + (select count(*) from jobs where project_id = $1 and coalesce(folder_id, '') = $2)",
        )
        .bind(project_id)
        .bind(folder_id.unwrap_or(""))
        .fetch_one(&mut **tx)
        .await?;
        Ok(n)
    }

    pub async fn exists(&mut self, folder_id: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let found: Option<(String,)> =
            sqlx::query_as("select id from folders where id = $1 and project_id = $2")
                .bind(folder_id)
                .bind(project_id)
                .fetch_optional(&mut **tx)
                .await?;
        Ok(found.is_some())
    }

    pub async fn name_of(&mut self, folder_id: &str) -> Result<String, Error> {
        let (tx, project_id) = self.0.parts();
        let row: Option<(String,)> =
            sqlx::query_as("select name from folders where id = $1 and project_id = $2")
                .bind(folder_id)
                .bind(project_id)
                .fetch_optional(&mut **tx)
                .await?;
        row.map(|(name,)| name)
            .ok_or_else(|| Error::not_found("folder"))
    }

    /// Whether another folder (not `except`) under `parent_id` is named `name`.
    pub async fn name_taken(
        &mut self,
        parent_id: Option<&str>,
        name: &str,
        except: &str,
    ) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as("select count(*) from folders where project_id = $1 and coalesce(parent_id, '') = $2 and name = $3 and id <> $4")
            .bind(project_id)
            .bind(parent_id.unwrap_or(""))
            .bind(name)
            .bind(except)
            .fetch_one(&mut **tx)
            .await?;
        Ok(n > 0)
    }

    pub async fn insert(
        &mut self,
        parent_id: Option<&str>,
        name: &str,
    ) -> Result<FolderRow, Error> {
        let (tx, project_id) = self.0.parts();
        let now = now_ms();
        let row = FolderRow {
            id: new_id(),
            project_id: project_id.to_owned(),
            parent_id: parent_id.map(str::to_owned),
            name: name.to_owned(),
            created_at: now,
            updated_at: now,
        };
        sqlx::query("insert into folders (id, project_id, parent_id, name, created_at, updated_at) values ($1, $2, $3, $4, $5, $6)")
            .bind(&row.id)
            .bind(&row.project_id)
            .bind(&row.parent_id)
            .bind(&row.name)
            .bind(row.created_at)
            .bind(row.updated_at)
            .execute(&mut **tx)
            .await?;
        Ok(row)
    }

    /// Renames and moves in one statement.
    pub async fn update(
        &mut self,
        folder_id: &str,
        name: &str,
        parent_id: Option<&str>,
    ) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query("update folders set name = $1, parent_id = $2, updated_at = $3 where id = $4 and project_id = $5")
            .bind(name)
            .bind(parent_id)
            .bind(now_ms())
            .bind(folder_id)
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn delete(&mut self, folder_id: &str) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query("delete from folders where id = $1 and project_id = $2")
            .bind(folder_id)
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// The folder tree of one project, read inside the locked transaction.
pub struct FolderTree {
    parent: HashMap<String, Option<String>>,
}

impl FolderTree {
    pub fn contains(&self, id: &str) -> bool {
        self.parent.contains_key(id)
    }

    /// The parent of a folder of the tree (`Some(None)`: at the root).
    pub fn parent_of(&self, id: &str) -> Option<Option<String>> {
        self.parent.get(id).cloned()
    }

    /// Depth of a folder: 1 at the root. `None` (the root itself) has depth 0.
    pub fn depth(&self, id: Option<&str>) -> i64 {
        let mut depth = 0;
        let mut cursor = id.map(str::to_owned);
        while let Some(current) = cursor {
            depth += 1;
            cursor = self.parent.get(&current).cloned().flatten();
            if depth > self.parent.len() as i64 {
                break; // a cycle cannot be stored, but never loop on bad data
            }
        }
        depth
    }

    /// True when `candidate` is `ancestor` or lies below it.
    pub fn is_within(&self, candidate: &str, ancestor: &str) -> bool {
        let mut cursor = Some(candidate.to_owned());
        let mut steps = 0;
        while let Some(current) = cursor {
            if current == ancestor {
                return true;
            }
            steps += 1;
            if steps > self.parent.len() {
                return false;
            }
            cursor = self.parent.get(&current).cloned().flatten();
        }
        false
    }

    /// Levels in the subtree rooted at `id`, counting `id` itself as 1.
    pub fn height(&self, id: &str) -> i64 {
        let own = self.depth(Some(id));
        self.parent
            .keys()
            .filter(|f| self.is_within(f, id))
            .map(|f| self.depth(Some(f)) - own + 1)
            .max()
            .unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(edges: &[(&str, Option<&str>)]) -> FolderTree {
        FolderTree {
            parent: edges
                .iter()
                .map(|(id, parent)| (id.to_string(), parent.map(str::to_owned)))
                .collect(),
        }
    }

    #[test]
    fn depth_height_and_containment_follow_the_parents() {
        let t = tree(&[("a", None), ("b", Some("a")), ("c", Some("b")), ("d", None)]);
        assert_eq!(t.depth(None), 0);
        assert_eq!(t.depth(Some("a")), 1);
        assert_eq!(t.depth(Some("c")), 3);
        assert_eq!(t.height("a"), 3);
        assert_eq!(t.height("c"), 1);
        assert!(t.is_within("c", "a"));
        assert!(t.is_within("a", "a"));
        assert!(!t.is_within("a", "c"));
        assert!(!t.is_within("d", "a"));
        assert_eq!(t.parent_of("b"), Some(Some("a".to_owned())));
        assert_eq!(t.parent_of("x"), None);
    }

    #[test]
    fn a_stored_cycle_does_not_loop() {
        let t = tree(&[("a", Some("b")), ("b", Some("a"))]);
        assert!(t.depth(Some("a")) <= 3);
        assert!(!t.is_within("a", "z"));
    }
}
