//! The speed profile's OpenStreetMap tag rules, as plain data from Python (no TOML here),
//! and the decision for one way: kept (class, ferry, direction) or skipped for a counted
//! reason. The rules are those of `python/hexaccess/network/osm.py` (`_way_class`,
//! `_way_direction`), which the Python test compares tag by tag.

use std::collections::HashMap;

/// What the profile says about OSM tags.
#[derive(Clone, Debug, Default)]
pub struct OsmRules {
    /// `highway` values the profile rates (`[speeds_kmh.highway]`); a way's class id is
    /// the position of its value here, ferries get id `classes.len()`.
    pub classes: Vec<String>,
    /// `highway` values the mode may not use (`[exclude] highway`).
    pub exclude: Vec<String>,
    /// `route` values that are ferries (`[ferry.detect] route`).
    pub ferry_routes: Vec<String>,
    /// Access tags from general to specific: the last one present decides.
    pub access_tags: Vec<String>,
    /// One-way tags: the first one present decides.
    pub oneway_tags: Vec<String>,
    /// Whether the mode obeys one-way restrictions at all.
    pub respect_oneway: bool,
    /// Speed-limit tags, first present decides (`[osm] maxspeed_tags`; empty: class
    /// speeds only).
    pub maxspeed_tags: Vec<String>,
    /// Implicit limits by zone value (`"FI:urban" = 50`; `[osm.maxspeed_zones]`).
    pub maxspeed_zones: Vec<(String, f64)>,
    /// Access values that allow only trips starting or ending on the way
    /// (`[osm] destination_access`, e.g. `destination`; empty: such ways are ordinary).
    pub destination_access: Vec<String>,
    /// Restriction tags of `type=restriction` relations, general to specific: the last
    /// present decides (`[osm] restriction_tags`; empty: no turn restrictions read).
    pub restriction_tags: Vec<String>,
    /// `except=` values that exempt this mode from a restriction (`motorcar`, ...).
    pub restriction_exempt: Vec<String>,
}

impl OsmRules {
    /// Class id of ferries (one past the rated `highway` values).
    pub fn ferry_class(&self) -> u16 {
        self.classes.len() as u16
    }

    /// Roundabouts and motorways are one-way without a tag for profiles that list the
    /// plain `oneway` tag (cars, bikes), not for `oneway:foot`-only profiles.
    fn implied_oneway(&self) -> bool {
        self.respect_oneway && self.oneway_tags.iter().any(|t| t == "oneway")
    }
}

/// Skipped ways by reason and value, and unknown one-way values of kept ways (the
/// `meta` counters of the Python reader).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SkipCounts {
    pub excluded: HashMap<String, u64>,
    pub unknown_highway: HashMap<String, u64>,
    pub access_forbidden: HashMap<String, u64>,
    pub unknown_oneway: HashMap<String, u64>,
    /// `maxspeed` values of kept ways that give no speed (`none`, `signals`, typos):
    /// those ways keep their class speed.
    pub maxspeed_unused: HashMap<String, u64>,
    /// Turn-restriction relations not applied, by reason (`via_way`, `exempt`, ...).
    pub restrictions_skipped: HashMap<String, u64>,
}

impl SkipCounts {
    /// Add the counts of `other` (blocks are decoded apart, then merged).
    pub fn merge(&mut self, other: SkipCounts) {
        for (mine, theirs) in [
            (&mut self.excluded, other.excluded),
            (&mut self.unknown_highway, other.unknown_highway),
            (&mut self.access_forbidden, other.access_forbidden),
            (&mut self.unknown_oneway, other.unknown_oneway),
            (&mut self.maxspeed_unused, other.maxspeed_unused),
            (&mut self.restrictions_skipped, other.restrictions_skipped),
        ] {
            for (k, v) in theirs {
                *mine.entry(k).or_insert(0) += v;
            }
        }
    }
}

pub(crate) fn bump(map: &mut HashMap<String, u64>, key: &str) {
    *map.entry(key.to_owned()).or_insert(0) += 1;
}

/// A kept way's class id, ferry flag, direction (+1 along, -1 against, 0 two-way), its
/// tagged speed limit (km/h; 0 when untagged or unusable) and whether it is open to
/// destination traffic only.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WayKind {
    pub class: u16,
    pub ferry: bool,
    pub oneway: i8,
    pub maxspeed_kmh: f32,
    pub destination: bool,
}

/// The first value of `key` among the way's tags (as osmium's `tags.get`).
fn get<'a>(tags: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// Whether the way is usable by the profile's mode; skipped ways are counted in
/// `counts` when the reason is one the user may want to know.
pub fn classify(
    tags: &[(&str, &str)],
    rules: &OsmRules,
    counts: &mut SkipCounts,
) -> Option<WayKind> {
    let (class, ferry, name) = match get(tags, "highway") {
        None => {
            let route = get(tags, "route")?;
            if !rules.ferry_routes.iter().any(|r| r == route) {
                return None;
            }
            (rules.ferry_class(), true, "ferry")
        }
        Some(hw) if rules.exclude.iter().any(|e| e == hw) => {
            bump(&mut counts.excluded, hw);
            return None;
        }
        Some(hw) => match rules.classes.iter().position(|c| c == hw) {
            Some(i) => (i as u16, false, hw),
            None => {
                bump(&mut counts.unknown_highway, hw);
                return None;
            }
        },
    };
    // the last (most specific) access tag present wins
    let access = rules
        .access_tags
        .iter()
        .filter_map(|t| get(tags, t))
        .next_back();
    if let Some(acc @ ("no" | "private")) = access {
        bump(&mut counts.access_forbidden, &format!("{name}:{acc}"));
        return None;
    }
    let destination = access.is_some_and(|a| rules.destination_access.iter().any(|d| d == a));
    let oneway = direction(tags, ferry, rules, counts);
    let maxspeed_kmh = if ferry {
        0.0
    } else {
        way_maxspeed(tags, rules, counts)
    };
    Some(WayKind {
        class,
        ferry,
        oneway,
        maxspeed_kmh,
        destination,
    })
}

/// The way's speed limit from the first `maxspeed_tags` tag present (0: none; values
/// that give no speed are counted).
fn way_maxspeed(tags: &[(&str, &str)], rules: &OsmRules, counts: &mut SkipCounts) -> f32 {
    let Some(val) = rules.maxspeed_tags.iter().find_map(|t| get(tags, t)) else {
        return 0.0;
    };
    match parse_maxspeed(val, &rules.maxspeed_zones) {
        Some(v) => v as f32,
        None => {
            bump(&mut counts.maxspeed_unused, val);
            0.0
        }
    }
}

/// km/h of an OSM `maxspeed` value: a zone of the table (`FI:urban`), a number (km/h),
/// or a number with a unit (`mph`, `km/h`, `kmh`, `kph`, `knots`); None for anything else
/// (`none`, `signals`, `walk`, lists such as `50;30`) and for limits outside 1-300 km/h.
pub fn parse_maxspeed(value: &str, zones: &[(String, f64)]) -> Option<f64> {
    let v = value.trim();
    if let Some((_, kmh)) = zones.iter().find(|(z, _)| z == v) {
        return Some(*kmh);
    }
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let number: f64 = v[..end].parse().ok()?;
    let factor = match v[end..].trim() {
        "" | "km/h" | "kmh" | "kph" => 1.0,
        "mph" => 1.609_344,
        "knots" => 1.852,
        _ => return None,
    };
    let kmh = number * factor;
    (1.0..=300.0).contains(&kmh).then_some(kmh)
}

/// +1 one-way along the way, -1 against it, 0 two-way; unknown values are counted.
fn direction(tags: &[(&str, &str)], ferry: bool, rules: &OsmRules, counts: &mut SkipCounts) -> i8 {
    if !rules.respect_oneway || ferry {
        return 0;
    }
    let Some(val) = rules.oneway_tags.iter().find_map(|t| get(tags, t)) else {
        let implied = matches!(get(tags, "junction"), Some("roundabout" | "circular"))
            || get(tags, "highway") == Some("motorway");
        return i8::from(rules.implied_oneway() && implied);
    };
    match val {
        "yes" | "true" | "1" => 1,
        "-1" | "reverse" => -1,
        "no" | "false" | "0" => 0,
        other => {
            bump(&mut counts.unknown_oneway, other); // e.g. reversible: two-way
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn car() -> OsmRules {
        OsmRules {
            classes: vec!["motorway".into(), "primary".into(), "residential".into()],
            exclude: vec!["footway".into()],
            ferry_routes: vec!["ferry".into()],
            access_tags: vec!["access".into(), "vehicle".into(), "motor_vehicle".into()],
            oneway_tags: vec!["oneway".into()],
            respect_oneway: true,
            maxspeed_tags: vec!["maxspeed".into()],
            maxspeed_zones: vec![("FI:urban".into(), 50.0)],
            destination_access: vec!["destination".into()],
            restriction_tags: vec![],
            restriction_exempt: vec![],
        }
    }

    fn kind(tags: &[(&str, &str)], rules: &OsmRules) -> (Option<WayKind>, SkipCounts) {
        let mut counts = SkipCounts::default();
        (classify(tags, rules, &mut counts), counts)
    }

    #[test]
    fn classes_exclusions_and_unknown_values() {
        let r = car();
        let (k, _) = kind(&[("highway", "primary")], &r);
        assert_eq!(
            k,
            Some(WayKind {
                class: 1,
                ferry: false,
                oneway: 0,
                maxspeed_kmh: 0.0,
                destination: false,
            })
        );
        let (k, c) = kind(&[("highway", "footway")], &r);
        assert_eq!((k, c.excluded["footway"]), (None, 1));
        let (k, c) = kind(&[("highway", "bogus")], &r);
        assert_eq!((k, c.unknown_highway["bogus"]), (None, 1));
        assert_eq!(kind(&[("building", "yes")], &r).0, None);
        assert_eq!(kind(&[("route", "bus")], &r).0, None);
        let (k, _) = kind(&[("route", "ferry"), ("oneway", "yes")], &r);
        assert_eq!(
            k,
            Some(WayKind {
                class: 3,
                ferry: true,
                oneway: 0,
                maxspeed_kmh: 0.0,
                destination: false,
            })
        );
    }

    #[test]
    fn the_most_specific_access_tag_decides() {
        let r = car();
        let (k, c) = kind(&[("highway", "residential"), ("access", "private")], &r);
        assert_eq!((k, c.access_forbidden["residential:private"]), (None, 1));
        let tags = [
            ("highway", "residential"),
            ("access", "no"),
            ("motor_vehicle", "yes"),
        ];
        assert!(kind(&tags, &r).0.is_some());
        let tags = [
            ("highway", "residential"),
            ("motor_vehicle", "no"),
            ("access", "yes"),
        ];
        assert_eq!(kind(&tags, &r).0, None);
    }

    #[test]
    fn oneway_tags_and_implied_oneways() {
        let r = car();
        let one = |tags: &[(&str, &str)]| kind(tags, &r).0.map(|k| k.oneway);
        assert_eq!(one(&[("highway", "primary"), ("oneway", "yes")]), Some(1));
        assert_eq!(one(&[("highway", "primary"), ("oneway", "-1")]), Some(-1));
        assert_eq!(
            one(&[("highway", "primary"), ("junction", "roundabout")]),
            Some(1)
        );
        assert_eq!(one(&[("highway", "motorway")]), Some(1));
        assert_eq!(one(&[("highway", "motorway"), ("oneway", "no")]), Some(0));
        let (k, c) = kind(&[("highway", "primary"), ("oneway", "reversible")], &r);
        assert_eq!(
            (k.map(|k| k.oneway), c.unknown_oneway["reversible"]),
            (Some(0), 1)
        );
        let walk = OsmRules {
            oneway_tags: vec!["oneway:foot".into()],
            ..car()
        };
        assert_eq!(
            kind(&[("highway", "motorway")], &walk).0.map(|k| k.oneway),
            Some(0)
        );
        let free = OsmRules {
            respect_oneway: false,
            ..car()
        };
        let tags = [("highway", "primary"), ("oneway", "yes")];
        assert_eq!(kind(&tags, &free).0.map(|k| k.oneway), Some(0));
    }

    #[test]
    fn speed_limits_and_destination_only_ways() {
        let r = car();
        let speed = |v: &str| kind(&[("highway", "primary"), ("maxspeed", v)], &r);
        assert_eq!(speed("60").0.unwrap().maxspeed_kmh, 60.0);
        assert_eq!(speed("FI:urban").0.unwrap().maxspeed_kmh, 50.0);
        assert!((speed("30 mph").0.unwrap().maxspeed_kmh - 48.280_32).abs() < 1e-4);
        for bad in ["none", "signals", "50;30", "0", "fast"] {
            let (k, c) = speed(bad);
            assert_eq!((k.unwrap().maxspeed_kmh, c.maxspeed_unused[bad]), (0.0, 1));
        }
        let tags = [("highway", "residential"), ("motor_vehicle", "destination")];
        assert!(kind(&tags, &r).0.unwrap().destination);
        let tags = [
            ("highway", "residential"),
            ("access", "destination"),
            ("motorcar", "yes"),
        ];
        let r2 = OsmRules {
            access_tags: vec!["access".into(), "motorcar".into()],
            ..car()
        };
        assert!(!kind(&tags, &r2).0.unwrap().destination);
    }
}
