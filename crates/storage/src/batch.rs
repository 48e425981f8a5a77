//! Multi-row statements: a statement written once, whose rows (a `VALUES` list, an `IN` list)
//! repeat as many times as a batch has rows. Large writes go in chunks of [`BATCH_ROWS`], all in
//! one transaction, instead of one statement or one transaction per row.
//!
//! Their shapes are chosen so that both engines find rows through the primary key even when
//! PostgreSQL has no statistics yet (a table filled since autovacuum last looked): then it takes
//! `sku IN (…)` or a join with a `VALUES` list to match every row, and scans. An upsert's
//! conflict check always probes the key, and an `IN` list bounded by `sku BETWEEN first AND
//! last` ([`sku_chunks`]) scans only that range of the key.

use std::collections::HashMap;

/// Rows per statement. The binds stay far below SQLite's limit (32,766) and PostgreSQL's
/// (65,535), and full chunks share one SQL text, so each connection prepares it once.
pub(crate) const BATCH_ROWS: usize = 500;

/// A statement `head row, row, … tail`. Binds `$1`…`$fixed` are the same for every row and may
/// appear anywhere; each `?` in `row` becomes the next per-row bind, from `$fixed + 1` on.
pub(crate) struct Batch {
    pub head: &'static str,
    pub row: &'static str,
    pub tail: &'static str,
    pub fixed: usize,
}

impl Batch {
    /// The SQL text for `rows` rows.
    pub(crate) fn sql(&self, rows: usize) -> sqlx::AssertSqlSafe<String> {
        let mut sql = String::with_capacity(self.head.len() + rows * (self.row.len() + 8));
        sql.push_str(self.head);
        let mut next = self.fixed + 1;
        for n in 0..rows {
            if n > 0 {
                sql.push_str(", ");
            }
            for c in self.row.chars() {
                if c == '?' {
                    sql.push('$');
                    sql.push_str(&next.to_string());
                    next += 1;
                } else {
                    sql.push(c);
                }
            }
        }
        sql.push_str(self.tail);
        // Only the constant parts above and bind numbers: nothing from the caller.
        sqlx::AssertSqlSafe(sql)
    }
}

/// The distinct SKUs in byte order (the order of both engines' SKU columns), in chunks of at
/// most [`BATCH_ROWS`]: each chunk's first and last SKU bound its `IN` list.
pub(crate) fn sku_chunks(skus: &[String]) -> Vec<Vec<&str>> {
    let mut sorted: Vec<&str> = skus.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.chunks(BATCH_ROWS).map(<[&str]>::to_vec).collect()
}

/// The last of the items that share a key, in the order of those last ones: one multi-row
/// upsert may not touch a row twice (PostgreSQL refuses), and the latest word wins.
pub(crate) fn last_of_each<T>(items: &[T], key: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut last = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        last.insert(key(item), i);
    }
    items
        .iter()
        .enumerate()
        .filter(|(i, item)| last.get(key(item)) == Some(i))
        .map(|(_, item)| item)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_after_the_fixed_binds() {
        let batch = Batch {
            head: "INSERT INTO t (a, b, c) VALUES ",
            row: "($1, ?, ?)",
            tail: " ON CONFLICT DO NOTHING",
            fixed: 1,
        };
        assert_eq!(
            batch.sql(3).0,
            "INSERT INTO t (a, b, c) VALUES ($1, $2, $3), ($1, $4, $5), ($1, $6, $7) ON CONFLICT DO NOTHING"
        );
        let list = Batch {
            head: "SELECT a FROM t WHERE w = $1 AND k = $2 AND a IN (",
            row: "?",
            tail: ")",
            fixed: 2,
        };
        assert_eq!(
            list.sql(2).0,
            "SELECT a FROM t WHERE w = $1 AND k = $2 AND a IN ($3, $4)"
        );
    }

    #[test]
    fn skus_are_chunked_distinct_and_in_byte_order() {
        let skus: Vec<String> = ["b", "a", "B", "b"].map(String::from).to_vec();
        assert_eq!(sku_chunks(&skus), [vec!["B", "a", "b"]]);
        let many: Vec<String> = (0..BATCH_ROWS + 1).map(|n| format!("{n:04}")).collect();
        let chunks = sku_chunks(&many);
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            [BATCH_ROWS, 1]
        );
        assert_eq!(chunks[1], ["0500"]);
    }

    #[test]
    fn the_last_item_of_each_key_wins_in_its_place() {
        let items = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)];
        let kept: Vec<_> = last_of_each(&items, |(k, _)| k)
            .into_iter()
            .copied()
            .collect();
        assert_eq!(kept, [("a", 3), ("c", 4), ("b", 5)]);
    }
}
