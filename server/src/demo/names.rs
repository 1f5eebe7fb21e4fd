//! Word lists for plausible synthetic names and addresses. No real person or firm is
//! meant; phone numbers are masked.

use rand::Rng;
use rand::seq::IndexedRandom;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "沈", "陆",
    "俞", "傅", "楼", "孔", "汪", "蔡", "方", "金",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "华", "建国", "建华", "国强", "志刚", "海燕", "卫东", "红梅", "小平", "金根",
    "永良", "雪芳", "佳怡", "浩然", "宇航", "立新", "美娟", "关林", "水根", "月娥",
];
const FIRM_WORDS: &[&str] = &[
    "宏达", "恒盛", "兴隆", "永利", "华丰", "鑫源", "瑞丰", "明辉", "天成", "金鹰", "顺发", "汇通",
    "东方", "新华", "精诚", "荣达", "万利", "富强", "立信", "康泰", "恒源", "联发", "佳利", "锦绣",
];
const INDUSTRIES: &[&str] = &[
    "纺织", "化纤", "印染", "经编", "织造", "服饰", "机械", "五金", "汽配", "包装", "塑料", "家具",
    "电器", "建材", "食品",
];
const SHOPS: &[&str] = &[
    "小吃店",
    "面馆",
    "超市",
    "便利店",
    "五金店",
    "理发店",
    "水果店",
    "服装店",
    "电动车行",
    "手机店",
    "药店",
    "早餐店",
    "烟酒店",
    "建材店",
    "快递站",
    "茶馆",
    "棋牌室",
    "汽修店",
    "洗衣店",
    "麻辣烫",
];
/// Synthetic road names used for addresses and shop streets.
pub const ROADS: &[&str] = &[
    "航坞路",
    "东灵路",
    "沙田路",
    "友谊路",
    "八一路",
    "育才路",
    "工业路",
    "明朗路",
    "塘新线",
    "坎红路",
    "文化路",
    "人民路",
    "新港路",
    "永联路",
    "群益路",
    "梅林路",
    "党山路",
    "长联路",
    "瓜港路",
    "凤升路",
];

fn pick<'a, R: Rng>(rng: &mut R, list: &[&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or_default()
}

/// A person's name.
pub fn person<R: Rng>(rng: &mut R) -> String {
    format!("{}{}", pick(rng, SURNAMES), pick(rng, GIVEN))
}

/// A masked mobile number, as the demo never stores a full one.
pub fn phone<R: Rng>(rng: &mut R) -> String {
    let prefix = pick(
        rng,
        &[
            "138", "139", "135", "137", "158", "159", "186", "189", "177",
        ],
    );
    format!("{prefix}****{:04}", rng.random_range(0..10_000))
}

/// An enterprise name.
pub fn enterprise<R: Rng>(rng: &mut R) -> String {
    format!(
        "杭州{}{}有限公司",
        pick(rng, FIRM_WORDS),
        pick(rng, INDUSTRIES)
    )
}

/// A street shop name.
pub fn shop<R: Rng>(rng: &mut R) -> String {
    format!("{}记{}", pick(rng, SURNAMES), pick(rng, SHOPS))
}

/// A high-rise name.
pub fn high_rise<R: Rng>(rng: &mut R, n: usize) -> String {
    format!("瓜沥{}大厦{}幢", pick(rng, FIRM_WORDS), n % 9 + 1)
}

/// A house-number address in a village.
pub fn village_address<R: Rng>(rng: &mut R, village: &str) -> String {
    format!("瓜沥镇{village}{}号", rng.random_range(1..400))
}

/// A house-number address on a road.
pub fn road_address<R: Rng>(rng: &mut R, road: &str) -> String {
    format!("瓜沥镇{road}{}号", rng.random_range(1..1200))
}
