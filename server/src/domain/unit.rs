//! Units: the registered premises that the map shows as balloons.

use super::{Location, RegionId, UnitId, vocabulary};
use chrono::{DateTime, Utc};

vocabulary! {
    /// The four kinds of premises of the campaign.
    UnitKind, "unit kind" {
        /// 企业, an enterprise or factory building.
        Enterprise = "enterprise",
        /// 沿街店铺, a street shop.
        StreetShop = "street_shop",
        /// 出租房, a rental room.
        Rental = "rental",
        /// 高层建筑, a high-rise building.
        HighRise = "high_rise",
    }
}

vocabulary! {
    /// The provincial four-colour risk rating (风险四色), independent of hazards.
    RiskLevel, "risk level" {
        /// 重大风险.
        Red = "red",
        /// 较大风险.
        Orange = "orange",
        /// 一般风险.
        Yellow = "yellow",
        /// 低风险.
        Blue = "blue",
    }
}

vocabulary! {
    /// The three batches enterprises were sorted into.
    Batch, "enterprise batch" {
        /// 示范: sample / model enterprises.
        Model = "model",
        /// 整治提升: rectify and improve.
        Rectify = "rectify",
        /// 关停拆除: close and demolish.
        Close = "close",
    }
}

/// A registered unit and its standing facts (inspections and hazards are separate).
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Id.
    pub id: UnitId,
    /// Kind of premises.
    pub kind: UnitKind,
    /// Name as registered.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Owner or person responsible.
    pub owner_name: String,
    /// Owner's phone (the demo stores masked numbers only).
    pub owner_phone: String,
    /// Location, WGS 84 lon/lat.
    pub location: Location,
    /// The micro-grid the location falls in.
    pub micro_grid: RegionId,
    /// Provincial risk rating.
    pub risk: RiskLevel,
    /// Enterprise batch; `None` for other kinds and unsorted enterprises.
    pub batch: Option<Batch>,
    /// For a factory-in-factory (厂中厂), the host enterprise.
    pub host: Option<UnitId>,
    /// When it entered the register.
    pub registered_at: DateTime<Utc>,
}

impl Unit {
    /// Whether this is a factory within a factory (厂中厂).
    pub fn is_factory_in_factory(&self) -> bool {
        self.host.is_some()
    }
}

/// An order to suspend business for rectification (停业整改), from `started_at` until
/// `ended_at` (open while `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Suspension {
    /// The suspended unit.
    pub unit: UnitId,
    /// When the order took effect.
    pub started_at: DateTime<Utc>,
    /// When business was allowed to resume.
    pub ended_at: Option<DateTime<Utc>>,
}

impl Suspension {
    /// Whether the order is in force at `now`.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.started_at <= now && self.ended_at.is_none_or(|end| now < end)
    }
}
