//! The two dialects' migrations describe the same schema: after migrating a fresh database of
//! each kind, both have the same tables and, per table, the same column names. The store runs
//! one set of statements on both, so a column missing on one back end fails only there, at run
//! time; this catches it when the migration is written (see `migrations/README.md`).

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{fresh_database, Backend};
use sqlx::Connection;

/// Table name -> its column names.
type Schema = BTreeMap<String, BTreeSet<String>>;

/// Migrates a fresh database on `backend` and reads its tables and columns from the catalog,
/// leaving out sqlx's bookkeeping table (and SQLite's own tables).
async fn migrated_schema(backend: Backend) -> Schema {
    let db = fresh_database(backend).await;
    yaoshi::store::connect(&db.url, &Default::default()).await.expect("connect and migrate");
    let rows: Vec<(String, String)> = match backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url).await.expect("open SQLite");
            sqlx::query_as(
                "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name <> '_sqlx_migrations'",
            )
            .fetch_all(&mut conn)
            .await
            .expect("SQLite catalog")
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("open PostgreSQL");
            sqlx::query_as(
                "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c
                 JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                 WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
                   AND c.table_name <> '_sqlx_migrations'",
            )
            .fetch_all(&mut conn)
            .await
            .expect("PostgreSQL catalog")
        }
    };
    let mut schema = Schema::new();
    // The search index is the one thing each dialect builds its own way (SQLite: an FTS5
    // table and its shadow tables; PostgreSQL: trigram indexes on `users`).
    for (table, column) in rows.into_iter().filter(|(table, _)| !table.starts_with("users_search")) {
        schema.entry(table).or_default().insert(column);
    }
    schema
}

mod sqlite {
    use super::*;

    /// The catalog query sees every migration (a column added by a later `ALTER TABLE`
    /// included) and nothing but the schema, so the comparison below is not vacuous.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn schema_is_read_from_the_catalog() {
        let schema = migrated_schema(Backend::Sqlite).await;
        assert!(schema["users"].contains("username_normalized"), "{schema:?}");
        assert!(schema["clients"].contains("backchannel_logout_uri"), "0005 applied: {schema:?}");
        assert!(schema.contains_key("pending_identities"), "0006 applied: {schema:?}");
        assert!(schema.get("logout_outbox").is_some_and(|c| c.contains("jti")), "0008 applied: {schema:?}");
        assert!(!schema.contains_key("_sqlx_migrations") && !schema.contains_key("sqlite_sequence"), "{schema:?}");
        assert!(schema.contains_key("user_groups"), "0017 applied: {schema:?}");
    }
}

mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn same_tables_and_columns() {
        let sqlite = migrated_schema(Backend::Sqlite).await;
        let postgres = migrated_schema(Backend::Postgres).await;
        let tables = |s: &Schema| s.keys().cloned().collect::<BTreeSet<_>>();
        assert_eq!(tables(&sqlite), tables(&postgres), "tables (SQLite left, PostgreSQL right)");
        for (table, columns) in &sqlite {
            assert_eq!(columns, &postgres[table], "columns of {table} (SQLite left, PostgreSQL right)");
        }
    }
}
