//! One page of a list: ids are UUIDv7 text, so an id is also the cursor.

#[derive(Debug, Clone)]
pub struct Page {
    /// Items per page; queries fetch one more to learn whether more exist.
    pub limit: i64,
    /// Items must have an id greater than this.
    pub after: String,
}

impl Page {
    /// For lists newest first: items must have an id below this. Ids are UUIDv7, so
    /// descending id is newest first, and "~" sorts after every id (the first page).
    pub fn before(&self) -> String {
        if self.after.is_empty() {
            "~".to_owned()
        } else {
            self.after.clone()
        }
    }

    /// What to bind as the query's `limit`: one more than the page holds.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}
