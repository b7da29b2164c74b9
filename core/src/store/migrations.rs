//! Numbered schema migrations, embedded in the binary.
//!
//! Each file `migrations/NNN_name.sql` runs in its own transaction that also sets
//! `PRAGMA user_version = NNN`, so a crash mid-upgrade leaves the previous version
//! intact. Files are append-only: never edit a migration that has shipped; add one.

use rusqlite::Connection;

/// (version, name, SQL) of every migration, in order.
pub const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "initial", include_str!("migrations/001_initial.sql")),
    (2, "care_plan", include_str!("migrations/002_care_plan.sql")),
    (3, "outbox", include_str!("migrations/003_outbox.sql")),
    (4, "sync", include_str!("migrations/004_sync.sql")),
    (5, "chat", include_str!("migrations/005_chat.sql")),
    (6, "notices", include_str!("migrations/006_notices.sql")),
    (7, "content", include_str!("migrations/007_content.sql")),
    (
        8,
        "care_plan_sources",
        include_str!("migrations/008_care_plan_sources.sql"),
    ),
];

/// The schema version this build writes: the last migration's.
pub const CURRENT_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// The database's schema version.
pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Upgrades `conn` to [`CURRENT_VERSION`]. Returns the version it started from.
pub fn migrate(conn: &mut Connection) -> Result<u32, MigrationError> {
    let from = version(conn)?;
    if from > CURRENT_VERSION {
        return Err(MigrationError::TooNew { found: from });
    }
    for (v, _name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > from) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", v)?;
        tx.commit()?;
    }
    Ok(from)
}

/// A failed upgrade.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The database was written by a newer Nära; it is left untouched.
    #[error("database schema {found} is newer than this app supports")]
    TooNew {
        /// The version found.
        found: u32,
    },
    /// SQLite failed.
    #[error("migration failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_8_forgets_the_goal_and_care_plan_cursors_only() {
        let mut conn = Connection::open_in_memory().expect("db");
        for (v, _, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v <= 7) {
            conn.execute_batch(sql).expect("older migration");
            conn.pragma_update(None, "user_version", v)
                .expect("version");
        }
        for key in [
            "cursor/Goal",
            "cursor/CarePlan",
            "cursor/Communication",
            "login/session",
        ] {
            conn.execute(
                "INSERT INTO sync_meta (key, value) VALUES (?1, x'00')",
                [key],
            )
            .expect("row");
        }
        assert_eq!(migrate(&mut conn).expect("migrate"), 7);
        let mut keys: Vec<String> = conn
            .prepare("SELECT key FROM sync_meta ORDER BY key")
            .expect("query")
            .query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("keys");
        keys.sort();
        assert_eq!(keys, vec!["cursor/Communication", "login/session"]);
        assert_eq!(version(&conn).expect("v"), CURRENT_VERSION);
    }
}
