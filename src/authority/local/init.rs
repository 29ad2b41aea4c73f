//! `mcpca init`: config, KEK, database and the first two keys — and nothing at all when they
//! are there already.

use std::sync::Arc;

use serde::Serialize;

use super::{effective_paths, KekSource, LocalAuthority, META_KEK_CHECK};
use crate::clock::Clock;
use crate::config::{validate_issuer, FileConfig, Overrides, Paths, Settings};
use crate::fsutil;
use crate::keys::{Kek, KeyState};
use crate::store::{PgStore, SqliteStore, Store};
use crate::{Error, Result};

/// What `init` did.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    /// False when everything existed and nothing changed.
    pub changed: bool,
    /// What was created, in plain words.
    pub created: Vec<String>,
    pub config_file: String,
    pub database: String,
    /// Where the KEK lives (`MCPCA_KEK` or a file path).
    pub kek: String,
    pub issuer: String,
    pub active_kid: Option<String>,
    pub next_kid: Option<String>,
    /// Notes for the operator (e.g. an `--issuer` that differs from the file).
    pub notes: Vec<String>,
    /// Whether this made a new authority (its first keys), rather than finding one (another
    /// replica's, on a shared database).
    #[serde(skip)]
    pub new_authority: bool,
}

/// Create whatever of the authority is missing. Running it on a complete authority changes
/// nothing and says so.
pub async fn init(paths: &Paths, issuer: Option<&str>, clock: Arc<dyn Clock>) -> Result<InitReport> {
    if let Some(i) = issuer {
        validate_issuer(i)?;
    }
    let mut created = Vec::new();
    let mut notes = Vec::new();

    // 1. config.yaml
    let file = match FileConfig::load(&paths.config_file)? {
        Some(f) => {
            if let (Some(want), Some(have)) = (issuer, f.issuer.as_deref()) {
                if want != have {
                    notes.push(format!(
                        "--issuer {want} differs from issuer {have} in {}; the file was left as it is (edit it to change the issuer)",
                        paths.config_file.display()
                    ));
                }
            }
            f
        }
        None => {
            let f = FileConfig { issuer: Some(issuer.unwrap_or(crate::config::DEFAULT_ISSUER).to_owned()), ..FileConfig::default() };
            let text = format!(
                "# mcpca configuration (precedence: flags > MCPCA_* environment > this file > defaults)\n{}",
                serde_norway::to_string(&f).map_err(|e| Error::Config(e.to_string()))?
            );
            fsutil::create_new(&paths.config_file, text.as_bytes(), 0o644)?;
            created.push(format!("config {}", paths.config_file.display()));
            f
        }
    };
    let settings = Settings::resolve(&file, &Overrides::default())?;
    let paths = effective_paths(paths, &file)?;

    // A PostgreSQL database is connected (and migrated) first: whether it holds keys already
    // decides, as the SQLite file's existence does, whether a missing KEK may be created.
    let pg = match &paths.database_url {
        Some(url) => Some((PgStore::connect(url.expose()).await?, url.redacted())),
        None => None,
    };
    let (db_has_keys, db_where) = match &pg {
        Some((store, url)) => (store.get_meta(META_KEK_CHECK).await?.is_some(), url.clone()),
        None => (paths.database.exists(), paths.database.display().to_string()),
    };

    // 2. the KEK
    let kek_source = KekSource::detect(&paths.kek_file);
    let kek_where = match &kek_source {
        KekSource::Env => "MCPCA_KEK".to_owned(),
        _ => paths.kek_file.display().to_string(),
    };
    if let KekSource::File(path) = &kek_source {
        if !path.exists() {
            if db_has_keys {
                return Err(Error::invalid(
                    format!("the database {db_where} exists but the key-encryption key file {} is missing", path.display()),
                    "restore the `kek` file or set MCPCA_KEK (every replica of a shared database needs the same one); init will not create a new key that cannot open the stored keys",
                ));
            }
            let kek = Kek::generate();
            fsutil::create_secret(path, format!("{}\n", kek.to_base64().as_str()).as_bytes())?;
            created.push(format!("key-encryption key {} (mode 0600)", path.display()));
        }
    }

    // 3. the database
    let store: Arc<dyn Store> = match pg {
        Some((store, url)) => {
            if !db_has_keys {
                created.push(format!("database {url} (PostgreSQL)"));
            }
            Arc::new(store)
        }
        None => {
            let new_db = !paths.database.exists();
            if new_db {
                // Born 0600: it holds the sealed signing keys (SQLite gives its -wal/-shm files the same mode).
                fsutil::create_secret(&paths.database, b"")?;
            }
            let store = SqliteStore::open(&paths.database, true)?;
            if new_db {
                created.push(format!("database {}", paths.database.display()));
            }
            Arc::new(store)
        }
    };
    let kek = kek_source.load()?;
    // On an existing database this writes nothing, and the check below refuses a wrong KEK.
    store.put_meta_if_absent(META_KEK_CHECK, &kek.check_value()?).await?;
    let authority = LocalAuthority::with_store(store, settings.clone(), clock, paths.clone(), KekSource::Given(kek));
    authority.kek().await?;

    // 4. an active and a next key, on a fresh key table only: an existing lifecycle is never touched.
    let keys = authority.store.list_keys().await?;
    let (active, next) = if keys.is_empty() {
        let active = super::keys::insert_new(&authority, KeyState::Active).await?;
        created.push(format!("active signing key {active}"));
        let next = super::keys::insert_new(&authority, KeyState::Next).await?;
        created.push(format!("next signing key {next}"));
        (Some(active), Some(next))
    } else {
        let find = |state| keys.iter().find(|k| k.state == state).map(|k| k.kid.clone());
        (find(KeyState::Active), find(KeyState::Next))
    };
    if active.is_none() {
        notes.push("there is no active signing key; run `mcpca key rotate` to promote the next key".into());
    }

    Ok(InitReport {
        changed: !created.is_empty(),
        created,
        config_file: paths.config_file.display().to_string(),
        database: db_where,
        kek: kek_where,
        issuer: settings.issuer,
        active_kid: active,
        next_kid: next,
        notes,
        new_authority: keys.is_empty(),
    })
}
