//! The 74 real village-level units of Guali (NBS 2023 codes), from `data/guali_villages.csv`.

/// Guali town's statistical division code.
pub const TOWN_CODE: &str = "330109113";

const CSV: &str = include_str!("../../../data/guali_villages.csv");

/// `(code, name)` of every village and community, in file order.
pub fn villages() -> Vec<(String, String)> {
    CSV.lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split(',');
            let code = cols.next()?.trim();
            let name = cols.next()?.trim().trim_matches('"');
            (!code.is_empty()).then(|| (code.to_owned(), name.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_74_with_guali_codes() {
        let v = super::villages();
        assert_eq!(v.len(), 74);
        assert!(
            v.iter()
                .all(|(code, _)| code.len() == 12 && code.starts_with(super::TOWN_CODE))
        );
        assert_eq!(v[0], ("330109113011".to_owned(), "航坞社区".to_owned()));
    }
}
