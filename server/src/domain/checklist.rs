//! The hazard types an inspector picks from, with their names in Chinese and English:
//! held in one place, so a notice to an owner, a card and a checklist all say a hazard
//! the same way. A hazard's `hazard_type` is a key of this table or, for one the table
//! does not list, the inspector's own words.
//!
//! Each type comes from one department's checklist. A routine visit offers the safety
//! categories' types (fire, production, traffic); a comprehensive one-time inspection
//! (综合查一次) merges every department's items into one visit, the others' too.

use super::{Category, vocabulary};

vocabulary! {
    /// The department whose checklist a hazard type comes from.
    Department, "department" {
        /// 消防救援.
        Fire = "fire",
        /// 应急管理 (production safety).
        Emergency = "emergency",
        /// 公安 (traffic police, population, anti-fraud).
        Police = "police",
        /// 综合行政执法 (urban management).
        Urban = "urban",
        /// 市场监管.
        Market = "market",
        /// 卫生健康 (epidemic prevention).
        Health = "health",
        /// 生态环境.
        Environment = "environment",
    }
}

impl Department {
    /// Its name in Chinese and in English.
    pub const fn names(self) -> (&'static str, &'static str) {
        match self {
            Department::Fire => ("消防救援", "fire and rescue"),
            Department::Emergency => ("应急管理", "emergency management"),
            Department::Police => ("公安", "police"),
            Department::Urban => ("综合行政执法", "urban management"),
            Department::Market => ("市场监管", "market supervision"),
            Department::Health => ("卫生健康", "health"),
            Department::Environment => ("生态环境", "environment"),
        }
    }
}

impl Category {
    /// Its name in Chinese and in English.
    pub const fn names(self) -> (&'static str, &'static str) {
        match self {
            Category::Fire => ("消防安全", "fire safety"),
            Category::Production => ("生产安全", "production safety"),
            Category::Traffic => ("交通安全", "traffic safety"),
            Category::Other => ("其他", "other"),
        }
    }
}

/// One type of hazard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HazardType {
    /// The stable key recorded with a hazard.
    pub key: &'static str,
    /// What it is about.
    pub category: Category,
    /// The department whose checklist it comes from.
    pub department: Department,
    /// Its name in Chinese.
    pub zh: &'static str,
    /// Its name in English.
    pub en: &'static str,
}

const fn t(
    key: &'static str,
    category: Category,
    department: Department,
    zh: &'static str,
    en: &'static str,
) -> HazardType {
    HazardType {
        key,
        category,
        department,
        zh,
        en,
    }
}

/// The reports' typical hazards (fire first, the campaign's focus).
pub const HAZARD_TYPES: &[HazardType] = &[
    t(
        "pitched_roof",
        Category::Fire,
        Department::Fire,
        "人字顶厂房耐火等级不足",
        "pitched roof of poor fire rating",
    ),
    t(
        "fire_lane_occupied",
        Category::Fire,
        Department::Urban,
        "违章搭建占用消防通道或防火间距",
        "illegal building on a fire lane or separation distance",
    ),
    t(
        "closed_canopy",
        Category::Fire,
        Department::Fire,
        "封闭式雨棚影响排烟",
        "closed canopy blocking smoke exhaust",
    ),
    t(
        "foam_sandwich_panel",
        Category::Fire,
        Department::Fire,
        "使用泡沫夹芯彩钢板",
        "foam sandwich panels",
    ),
    t(
        "no_fire_separation",
        Category::Fire,
        Department::Fire,
        "生产与仓储未防火分隔",
        "no fire separation of production and storage",
    ),
    t(
        "no_smoke_exhaust",
        Category::Fire,
        Department::Fire,
        "未设置排烟设施",
        "no smoke exhaust",
    ),
    t(
        "blocked_escape_route",
        Category::Fire,
        Department::Fire,
        "疏散通道堵塞",
        "blocked evacuation route",
    ),
    t(
        "ebike_charging",
        Category::Fire,
        Department::Fire,
        "电动自行车违规充电",
        "no proper e-bike charging point",
    ),
    t(
        "ebike_charging_indoors",
        Category::Fire,
        Department::Fire,
        "电动自行车室内充电",
        "e-bike charged indoors",
    ),
    t(
        "window_bars",
        Category::Fire,
        Department::Fire,
        "违规设置防盗窗",
        "anti-theft window bars",
    ),
    t(
        "missing_exit",
        Category::Fire,
        Department::Fire,
        "安全出口缺失",
        "missing safety exit",
    ),
    t(
        "messy_wiring",
        Category::Fire,
        Department::Fire,
        "电气线路私拉乱接",
        "messy wiring",
    ),
    t(
        "illegal_wiring",
        Category::Fire,
        Department::Fire,
        "违规用电",
        "illegal use of electricity",
    ),
    t(
        "no_indoor_hydrant",
        Category::Fire,
        Department::Fire,
        "未设置室内消火栓",
        "no indoor hydrant",
    ),
    t(
        "extinguisher_expired",
        Category::Fire,
        Department::Fire,
        "灭火器过期失效",
        "expired extinguisher",
    ),
    t(
        "extinguisher_missing",
        Category::Fire,
        Department::Fire,
        "未配置灭火器",
        "no extinguisher",
    ),
    t(
        "machine_guard_missing",
        Category::Production,
        Department::Emergency,
        "机械设备缺少防护装置",
        "machine without a guard",
    ),
    t(
        "unguarded_machinery",
        Category::Production,
        Department::Emergency,
        "机械设备无防护",
        "unguarded machinery",
    ),
    t(
        "chemicals_storage",
        Category::Production,
        Department::Emergency,
        "危险化学品储存不规范",
        "improper storage of chemicals",
    ),
    t(
        "gas_cylinder",
        Category::Production,
        Department::Market,
        "液化气钢瓶使用不规范",
        "unsafe use of gas cylinders",
    ),
    t(
        "no_safety_training",
        Category::Production,
        Department::Emergency,
        "未开展安全培训",
        "no safety training",
    ),
    t(
        "parking_on_fire_lane",
        Category::Traffic,
        Department::Police,
        "车辆占用消防车道",
        "vehicles parked on a fire lane",
    ),
    t(
        "unlicensed_vehicle",
        Category::Traffic,
        Department::Police,
        "无牌无证车辆",
        "unlicensed vehicle",
    ),
    t(
        "loading_area",
        Category::Traffic,
        Department::Police,
        "装卸区交通组织混乱",
        "disorderly loading area",
    ),
    t(
        "goods_blocking_road",
        Category::Traffic,
        Department::Urban,
        "货物占道",
        "goods blocking the road",
    ),
    // What the inspector did not find in the list (the demo records it so).
    t(
        "other",
        Category::Other,
        Department::Emergency,
        "其他隐患",
        "other hazard",
    ),
    // The other departments' items merged into a comprehensive one-time inspection.
    t(
        "food_without_licence",
        Category::Other,
        Department::Market,
        "无证经营食品",
        "food sold without a licence",
    ),
    t(
        "tenants_unregistered",
        Category::Other,
        Department::Police,
        "出租房人员未登记",
        "tenants not registered",
    ),
    t(
        "no_anti_fraud_notice",
        Category::Other,
        Department::Police,
        "未开展反诈宣传",
        "no anti-fraud notice",
    ),
    t(
        "venue_code_unchecked",
        Category::Other,
        Department::Health,
        "未落实场所码查验",
        "venue health code not checked",
    ),
    t(
        "sewage_discharge",
        Category::Other,
        Department::Environment,
        "污水违规排放",
        "illegal sewage discharge",
    ),
    t(
        "unauthorised_sign",
        Category::Other,
        Department::Urban,
        "违规设置户外广告",
        "unauthorised outdoor sign",
    ),
];

/// The types a visit offers: a routine visit's (the safety categories), or every
/// department's for a comprehensive one-time inspection.
pub fn checklist(comprehensive: bool) -> impl Iterator<Item = &'static HazardType> {
    HAZARD_TYPES
        .iter()
        .filter(move |t| comprehensive || t.category != Category::Other)
}

/// The type with this key, if the table has it.
pub fn hazard_type(key: &str) -> Option<&'static HazardType> {
    HAZARD_TYPES.iter().find(|t| t.key == key)
}

/// How a hazard of type `key` is said in Chinese: its name, or the key itself when it is
/// the inspector's own words.
pub fn name_zh(key: &str) -> &str {
    hazard_type(key).map_or(key, |t| t.zh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_named() {
        for (i, a) in HAZARD_TYPES.iter().enumerate() {
            assert!(
                HAZARD_TYPES[i + 1..].iter().all(|b| b.key != a.key),
                "{}",
                a.key
            );
            assert!(!a.zh.is_empty() && !a.en.is_empty());
        }
        assert_eq!(name_zh("blocked_escape_route"), "疏散通道堵塞");
        assert_eq!(name_zh("门口堆放杂物"), "门口堆放杂物");
    }

    #[test]
    fn the_comprehensive_checklist_merges_every_department() {
        let routine: Vec<_> = checklist(false).collect();
        let all: Vec<_> = checklist(true).collect();
        assert!(routine.len() < all.len());
        for d in Department::ALL {
            assert!(all.iter().any(|t| t.department == *d), "{d}");
        }
        assert!(routine.iter().all(|t| t.category != Category::Other));
        assert!(routine.iter().any(|t| t.key == "blocked_escape_route"));
        assert!(!routine.iter().any(|t| t.key == "food_without_licence"));
    }
}
