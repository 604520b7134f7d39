//! The Autobahn|Testsuite case catalogue, sections 1 to 10.
//!
//! Sections 12 and 13 (permessage-deflate) are left out until Rampart
//! implements compression. The counts follow the published suite: 301 cases.

/// `(case group, number of cases)`; a group with one number per case id,
/// e.g. `("1.1", 8)` is `1.1.1` to `1.1.8`, and `("2", 11)` is `2.1` to `2.11`.
const GROUPS: &[(&str, u32)] = &[
    ("1.1", 8),
    ("1.2", 8),
    ("2", 11),
    ("3", 7),
    ("4.1", 5),
    ("4.2", 5),
    ("5", 20),
    ("6.1", 3),
    ("6.2", 4),
    ("6.3", 2),
    ("6.4", 4),
    ("6.5", 5),
    ("6.6", 11),
    ("6.7", 4),
    ("6.8", 2),
    ("6.9", 4),
    ("6.10", 3),
    ("6.11", 5),
    ("6.12", 8),
    ("6.13", 5),
    ("6.14", 10),
    ("6.15", 1),
    ("6.16", 3),
    ("6.17", 5),
    ("6.18", 5),
    ("6.19", 5),
    ("6.20", 7),
    ("6.21", 8),
    ("6.22", 34),
    ("6.23", 7),
    ("7.1", 6),
    ("7.3", 6),
    ("7.5", 1),
    ("7.7", 13),
    ("7.9", 9),
    ("7.13", 2),
    ("9.1", 6),
    ("9.2", 6),
    ("9.3", 9),
    ("9.4", 9),
    ("9.5", 6),
    ("9.6", 6),
    ("9.7", 6),
    ("9.8", 6),
    ("10.1", 1),
];

/// Every case id of sections 1 to 10, in catalogue order.
///
/// ```
/// let ids = conformance::catalogue::case_ids();
/// assert_eq!(ids.len(), 301);
/// assert_eq!(ids.first().map(String::as_str), Some("1.1.1"));
/// assert!(ids.iter().any(|id| id == "6.4.3"));
/// ```
#[must_use]
pub fn case_ids() -> Vec<String> {
    GROUPS
        .iter()
        .flat_map(|(group, count)| (1..=*count).map(move |n| format!("{group}.{n}")))
        .collect()
}

/// The section a case id belongs to: `"6.4.3"` is in section 6.
#[must_use]
pub fn section(case_id: &str) -> u32 {
    case_id
        .split('.')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_the_301_non_compression_cases_once_each() {
        let mut ids = case_ids();
        assert_eq!(ids.len(), 301);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 301);
        assert!(
            ids.iter()
                .all(|id| (1..=10).contains(&section(id)) && section(id) != 8)
        );
    }
}
