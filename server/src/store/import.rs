//! What an import asks the store before it writes: which of a file's external ids are
//! registered, and which units carry a file's names (to match rows without an id by
//! name and address). The lists go in as one JSON parameter, on both backends.

use std::collections::HashMap;

use sqlx::types::Json;

use super::rows::id;
use super::{AnyStore, Result};
use crate::domain::UnitId;

impl AnyStore {
    /// `sql` with its list, the JSON array bound as `$1`, spelt for the backend:
    /// `{texts}` a list of strings, `{ids}` a list of ids.
    pub(super) fn in_list(&self, sql: &str) -> String {
        let (texts, ids) = match self {
            AnyStore::Sqlite(_) => (
                "SELECT value FROM json_each($1)",
                "SELECT value FROM json_each($1)",
            ),
            AnyStore::Postgres(_) => (
                "SELECT jsonb_array_elements_text($1::jsonb)",
                "SELECT (jsonb_array_elements_text($1::jsonb))::bigint",
            ),
        };
        sql.replace("{texts}", texts).replace("{ids}", ids)
    }

    /// The unit of each of `keys` that is registered.
    pub async fn external_ids(&self, keys: &[&str]) -> Result<HashMap<String, UnitId>> {
        let sql = self.in_list(
            "SELECT external_id, unit_id FROM unit_external_ids WHERE external_id IN ({texts})",
        );
        let rows: Vec<(String, i64)> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(Json(keys))
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(|(k, u)| Ok((k, id("unit_external_ids.unit_id", u)?)))
            .collect()
    }

    /// Every unit named one of `names`: its id and `(name, address)`.
    pub async fn units_named(&self, names: &[&str]) -> Result<Vec<(UnitId, String, String)>> {
        let sql = self.in_list("SELECT id, name, address FROM units WHERE name IN ({texts})");
        let rows: Vec<(i64, String, String)> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(Json(names))
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(|(u, name, address)| Ok((id("units.id", u)?, name, address)))
            .collect()
    }
}

impl AnyStore {
    /// The external id of each of `ids` that has one (for exports).
    pub async fn external_ids_of(&self, ids: &[UnitId]) -> Result<HashMap<UnitId, String>> {
        let raw: Vec<i64> = ids.iter().map(|i| i.get()).collect();
        let sql = self
            .in_list("SELECT unit_id, external_id FROM unit_external_ids WHERE unit_id IN ({ids})");
        let rows: Vec<(i64, String)> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(Json(&raw))
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(|(u, k)| Ok((id("unit_external_ids.unit_id", u)?, k)))
            .collect()
    }
}

impl AnyStore {
    /// Every visit recorded at `units`: the unit, the moment and the inspector (what
    /// tells a records import that a visit is there already).
    pub async fn visits_recorded(
        &self,
        units: &[UnitId],
    ) -> Result<Vec<(UnitId, chrono::DateTime<chrono::Utc>, String)>> {
        let raw: Vec<i64> = units.iter().map(|i| i.get()).collect();
        let sql = self.in_list(
            "SELECT unit_id, inspected_at, inspector FROM inspections WHERE unit_id IN ({ids})",
        );
        let rows: Vec<(i64, chrono::DateTime<chrono::Utc>, String)> =
            on_pool!(self, |pool| sqlx::query_as(&sql)
                .bind(Json(&raw))
                .fetch_all(pool)
                .await?);
        rows.into_iter()
            .map(|(u, at, who)| Ok((id("inspections.unit_id", u)?, at, who)))
            .collect()
    }
}
