//! The hazard types an inspector picks from, with their names in Chinese and English:
//! held in one place, so a notice to an owner, a card and a checklist all say a hazard
//! the same way. A hazard's `hazard_type` is a key of this table or, for one the table
//! does not list, the inspector's own words.

use super::Category;

/// One type of hazard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HazardType {
    /// The stable key recorded with a hazard.
    pub key: &'static str,
    /// What it is about.
    pub category: Category,
    /// Its name in Chinese.
    pub zh: &'static str,
    /// Its name in English.
    pub en: &'static str,
}

const fn t(
    key: &'static str,
    category: Category,
    zh: &'static str,
    en: &'static str,
) -> HazardType {
    HazardType {
        key,
        category,
        zh,
        en,
    }
}

/// The reports' typical hazards (fire first, the campaign's focus).
pub const HAZARD_TYPES: &[HazardType] = &[
    t(
        "pitched_roof",
        Category::Fire,
        "人字顶厂房耐火等级不足",
        "pitched roof of poor fire rating",
    ),
    t(
        "fire_lane_occupied",
        Category::Fire,
        "违章搭建占用消防通道或防火间距",
        "illegal building on a fire lane or separation distance",
    ),
    t(
        "closed_canopy",
        Category::Fire,
        "封闭式雨棚影响排烟",
        "closed canopy blocking smoke exhaust",
    ),
    t(
        "foam_sandwich_panel",
        Category::Fire,
        "使用泡沫夹芯彩钢板",
        "foam sandwich panels",
    ),
    t(
        "no_fire_separation",
        Category::Fire,
        "生产与仓储未防火分隔",
        "no fire separation of production and storage",
    ),
    t(
        "no_smoke_exhaust",
        Category::Fire,
        "未设置排烟设施",
        "no smoke exhaust",
    ),
    t(
        "blocked_escape_route",
        Category::Fire,
        "疏散通道堵塞",
        "blocked evacuation route",
    ),
    t(
        "ebike_charging",
        Category::Fire,
        "电动自行车违规充电",
        "no proper e-bike charging point",
    ),
    t(
        "ebike_charging_indoors",
        Category::Fire,
        "电动自行车室内充电",
        "e-bike charged indoors",
    ),
    t(
        "window_bars",
        Category::Fire,
        "违规设置防盗窗",
        "anti-theft window bars",
    ),
    t(
        "missing_exit",
        Category::Fire,
        "安全出口缺失",
        "missing safety exit",
    ),
    t(
        "messy_wiring",
        Category::Fire,
        "电气线路私拉乱接",
        "messy wiring",
    ),
    t(
        "illegal_wiring",
        Category::Fire,
        "违规用电",
        "illegal use of electricity",
    ),
    t(
        "no_indoor_hydrant",
        Category::Fire,
        "未设置室内消火栓",
        "no indoor hydrant",
    ),
    t(
        "extinguisher_expired",
        Category::Fire,
        "灭火器过期失效",
        "expired extinguisher",
    ),
    t(
        "extinguisher_missing",
        Category::Fire,
        "未配置灭火器",
        "no extinguisher",
    ),
    t(
        "machine_guard_missing",
        Category::Production,
        "机械设备缺少防护装置",
        "machine without a guard",
    ),
    t(
        "unguarded_machinery",
        Category::Production,
        "机械设备无防护",
        "unguarded machinery",
    ),
    t(
        "chemicals_storage",
        Category::Production,
        "危险化学品储存不规范",
        "improper storage of chemicals",
    ),
    t(
        "gas_cylinder",
        Category::Production,
        "液化气钢瓶使用不规范",
        "unsafe use of gas cylinders",
    ),
    t(
        "no_safety_training",
        Category::Production,
        "未开展安全培训",
        "no safety training",
    ),
    t(
        "parking_on_fire_lane",
        Category::Traffic,
        "车辆占用消防车道",
        "vehicles parked on a fire lane",
    ),
    t(
        "unlicensed_vehicle",
        Category::Traffic,
        "无牌无证车辆",
        "unlicensed vehicle",
    ),
    t(
        "loading_area",
        Category::Traffic,
        "装卸区交通组织混乱",
        "disorderly loading area",
    ),
    t(
        "goods_blocking_road",
        Category::Traffic,
        "货物占道",
        "goods blocking the road",
    ),
];

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
}
