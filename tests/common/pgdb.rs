//! A PostgreSQL schema of its own for one test, in the database `MCPCA_TEST_DATABASE_URL`
//! names (CI: postgres://postgres@127.0.0.1:5432/test): created empty, reached through a URL
//! whose `options` set the `search_path` to it, dropped with everything in it at the end. Tests
//! run in parallel without seeing each other's rows. Unset variable: the test says it is
//! skipped and returns.

use std::future::Future;

/// One test's schema.
pub struct TestDb {
    /// The URL the code under test connects with (search_path = the schema).
    pub url: String,
    base: String,
    pub schema: String,
}

/// Run a future to completion on a runtime of its own (callable from sync and async tests).
pub fn block<F: Future + Send>(f: F) -> F::Output
where
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)).join().unwrap()
    })
}

/// Run SQL statements on `url`.
pub fn exec(url: &str, sql: &str) {
    block(async {
        let (client, conn) =
            tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
        let task = tokio::spawn(conn);
        client.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        drop(client);
        let _ = task.await;
    })
}

impl TestDb {
    /// A fresh schema, or `None` (with a message) when no test database is configured.
    pub fn create(test: &str) -> Option<TestDb> {
        let Some(base) = std::env::var("MCPCA_TEST_DATABASE_URL").ok().filter(|u| !u.trim().is_empty()) else {
            eprintln!(
                "SKIPPED {test}: set MCPCA_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run the PostgreSQL tests"
            );
            return None;
        };
        let schema = format!("mcpca_test_{}", uuid::Uuid::now_v7().simple());
        exec(&base, &format!("CREATE SCHEMA {schema}"));
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Some(TestDb { url, base, schema })
    }

    /// Run SQL in this schema.
    pub fn exec(&self, sql: &str) {
        exec(&self.url, sql);
    }

    /// Run SQL on the database, outside this schema (e.g. to rename it).
    #[allow(dead_code)] // not every test binary needs it
    pub fn exec_base(&self, sql: &str) {
        exec(&self.base, sql);
    }

    /// The first column of every row `sql` answers in this schema, as text.
    #[allow(dead_code)] // not every test binary reads rows
    pub fn column(&self, sql: &str) -> Vec<Option<String>> {
        let url = self.url.clone();
        block(async move {
            let (client, conn) =
                tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
            let task = tokio::spawn(conn);
            let rows = client.simple_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            drop(client);
            let _ = task.await;
            rows.into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).map(str::to_owned)),
                    _ => None,
                })
                .collect()
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema);
        let base = self.base.clone();
        // Not while unwinding a failed assertion into a second panic.
        let _ = std::panic::catch_unwind(move || exec(&base, &sql));
    }
}
