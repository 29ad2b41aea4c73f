//! A small pool of tokio-postgres connections: at most a fixed number open, idle ones reused,
//! closed ones dropped; each connection's I/O task runs on the tokio runtime.

use std::sync::Mutex;

use tokio::sync::{OnceCell, Semaphore, SemaphorePermit};
use tokio_postgres::{Client, Config};

use super::tls::Tls;
use crate::{Error, Result};

pub(super) struct Pool {
    /// Without `sslmode`/`sslrootcert`: those are in `tls`.
    pub(super) config: Config,
    pub(super) tls: Tls,
    /// `user@host:port/db`, for messages (never the password).
    pub(super) target: String,
    pub(super) idle: Mutex<Vec<Client>>,
    pub(super) permits: Semaphore,
    /// Set once the schema is brought up to date.
    pub(super) migrated: OnceCell<()>,
}

/// A pooled connection; back to the pool when dropped (a transaction left open is rolled back
/// by tokio-postgres before the next use).
pub(super) struct Conn<'a> {
    client: Option<Client>,
    pool: &'a Pool,
    _permit: SemaphorePermit<'a>,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        // Set from construction until drop.
        self.client.as_ref().unwrap_or_else(|| unreachable!("connection used after drop"))
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().unwrap_or_else(|| unreachable!("connection used after drop"))
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            if !c.is_closed() {
                if let Ok(mut idle) = self.pool.idle.lock() {
                    idle.push(c);
                }
            }
        }
    }
}

impl Pool {
    pub(super) async fn get(&self) -> Result<Conn<'_>> {
        let permit = self.permits.acquire().await.map_err(|_| Error::Store("the PostgreSQL pool is closed".into()))?;
        let idle = loop {
            let c = self.idle.lock().map_err(|_| Error::Store("the PostgreSQL pool is poisoned".into()))?.pop();
            match c {
                Some(c) if c.is_closed() => continue,
                c => break c,
            }
        };
        let client = match idle {
            Some(c) => c,
            None => self.connect().await?,
        };
        Ok(Conn { client: Some(client), pool: self, _permit: permit })
    }

    async fn connect(&self) -> Result<Client> {
        let (client, connection) = self.config.connect(self.tls.connector.clone()).await.map_err(|e| self.connect_error(&e))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %describe(&e), "PostgreSQL connection closed");
            }
        });
        Ok(client)
    }
}

impl Pool {
    /// The error of a failed connection: the target (never the password), and the TLS failure
    /// when there is one.
    pub(super) fn connect_error(&self, e: &tokio_postgres::Error) -> Error {
        self.tls.connect_error(&self.target, e)
    }
}

/// A tokio-postgres error with its cause: a server error's message and detail, or the I/O
/// error under a connection failure.
pub(super) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = db.message().to_owned();
        if let Some(d) = db.detail() {
            s.push_str(&format!(" ({d})"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    s
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Error::Store(describe(&e))
    }
}

/// `user@host:port/db` of a config.
pub(super) fn target(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{}@{host}:{port}/{}", config.get_user().unwrap_or("?"), config.get_dbname().unwrap_or(""))
}
