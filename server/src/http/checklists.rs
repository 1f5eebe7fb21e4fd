//! `GET /api/checklists`: the hazard types a visit offers, with their names in Chinese
//! and English, from the one table in `domain/checklist.rs` (the same names a notice to
//! the owner uses).

use axum::Json;
use serde::Serialize;

use super::error::ApiError;
use super::params::Params;
use crate::domain::Category;
use crate::domain::checklist::{self, Department, HAZARD_TYPES};

/// A category or a department, by key, with its names.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Named {
    /// The stable key.
    key: &'static str,
    /// Chinese.
    zh: &'static str,
    /// English.
    en: &'static str,
}

/// One hazard type.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Item {
    /// The key recorded as a hazard's `hazard_type`.
    key: &'static str,
    /// Its category (a hazard's `category`).
    category: Category,
    /// The department whose checklist it comes from.
    department: Department,
    /// Chinese.
    zh: &'static str,
    /// English.
    en: &'static str,
}

/// A checklist a visit uses: its items' keys.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct List {
    /// `routine` or `comprehensive`.
    id: &'static str,
    /// Whether a visit with it is a comprehensive one-time inspection (综合查一次).
    comprehensive: bool,
    /// Chinese.
    zh: &'static str,
    /// English.
    en: &'static str,
    /// The keys of its items, in the table's order.
    items: Vec<&'static str>,
}

/// Everything a visit's form needs to offer hazards.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Checklists {
    /// The categories, in order.
    categories: Vec<Named>,
    /// The departments, in order.
    departments: Vec<Named>,
    /// Every hazard type.
    items: Vec<Item>,
    /// The routine checklist and the comprehensive one.
    checklists: Vec<List>,
}

fn list(comprehensive: bool) -> List {
    let (id, zh, en) = if comprehensive {
        (
            "comprehensive",
            "综合查一次",
            "comprehensive one-time inspection",
        )
    } else {
        ("routine", "安全排查", "safety inspection")
    };
    List {
        id,
        comprehensive,
        zh,
        en,
        items: checklist::checklist(comprehensive).map(|t| t.key).collect(),
    }
}

/// `GET /api/checklists`.
#[utoipa::path(get, path = "/api/checklists", tag = "field work",
    responses(
        (status = 200, description = "The hazard types, with their categories and departments, and the routine and comprehensive checklists", body = Checklists),
        crate::http::openapi::BadRequest,
    ))]
pub async fn checklists(params: Params) -> Result<Json<Checklists>, ApiError> {
    params.only(&[])?;
    let named = |key, (zh, en): (&'static str, &'static str)| Named { key, zh, en };
    Ok(Json(Checklists {
        categories: Category::ALL
            .iter()
            .map(|c| named(c.as_str(), c.names()))
            .collect(),
        departments: Department::ALL
            .iter()
            .map(|d| named(d.as_str(), d.names()))
            .collect(),
        items: HAZARD_TYPES
            .iter()
            .map(|t| Item {
                key: t.key,
                category: t.category,
                department: t.department,
                zh: t.zh,
                en: t.en,
            })
            .collect(),
        checklists: vec![list(false), list(true)],
    }))
}
