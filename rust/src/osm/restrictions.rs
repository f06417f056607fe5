//! Turn restrictions: `type=restriction` relations read in the ways' pass, as (from way,
//! via node, to way, prohibitive or mandatory) rows. Matching them to graph arcs is the
//! Python side's job (`hexaccess.network.turns`), where the arcs are known; what cannot be
//! applied here (via ways, other vehicles, exemptions, missing members) is counted by
//! reason, never dropped without a word.

use osmpbf::{PrimitiveBlock, RelMemberType};

use super::tags::{bump, OsmRules, SkipCounts};

/// One restriction row: arriving on `from_way` at `via_node`, leaving on `to_way` is
/// forbidden (`only == false`) or the only way out (`only == true`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restriction {
    pub from_way: i64,
    pub via_node: i64,
    pub to_way: i64,
    pub only: bool,
}

/// The restriction rows of one block's relations (every from × to pair: `no_entry` and
/// `no_exit` may name several).
pub(crate) fn block_restrictions(
    block: &PrimitiveBlock,
    rules: &OsmRules,
    out: &mut Vec<Restriction>,
    counts: &mut SkipCounts,
) {
    if rules.restriction_tags.is_empty() {
        return;
    }
    let strings = block.raw_stringtable();
    let text = |i: u32| {
        strings
            .get(i as usize)
            .and_then(|s| std::str::from_utf8(s).ok())
    };
    let mut tags: Vec<(&str, &str)> = Vec::new();
    for group in block.groups() {
        for rel in group.relations() {
            tags.clear();
            tags.extend(
                rel.raw_tags()
                    .filter_map(|(k, v)| Some((text(k)?, text(v)?))),
            );
            if !tags.iter().any(|&(k, v)| k == "type" && v == "restriction") {
                continue;
            }
            let members = rel.members().filter_map(|m| {
                let role = text(m.role_sid as u32)?;
                Some((role, m.member_type.clone(), m.member_id))
            });
            let members: Vec<(&str, RelMemberType, i64)> = members.collect();
            match restriction_rows(&tags, &members, rules) {
                Ok(rows) => out.extend(rows),
                Err(reason) => bump(&mut counts.restrictions_skipped, reason),
            }
        }
    }
}

/// The rows of one relation, or why it does not apply to this mode.
fn restriction_rows(
    tags: &[(&str, &str)],
    members: &[(&str, RelMemberType, i64)],
    rules: &OsmRules,
) -> Result<Vec<Restriction>, &'static str> {
    let value = rules
        .restriction_tags
        .iter()
        .filter_map(|t| tags.iter().find(|(k, _)| k == t).map(|(_, v)| *v))
        .next_back()
        .ok_or("other_vehicle")?;
    if let Some((_, ex)) = tags.iter().find(|(k, _)| *k == "except") {
        if ex
            .split(';')
            .any(|e| rules.restriction_exempt.iter().any(|x| x == e.trim()))
        {
            return Err("exempt");
        }
    }
    let only = if value.starts_with("only_") {
        true
    } else if value.starts_with("no_") {
        false
    } else {
        return Err("unknown_value");
    };
    let of = |role: &'static str, ty: RelMemberType| -> Vec<i64> {
        members
            .iter()
            .filter(|(r, t, _)| *r == role && *t == ty)
            .map(|m| m.2)
            .collect()
    };
    if !of("via", RelMemberType::Way).is_empty() {
        return Err("via_way");
    }
    let via = of("via", RelMemberType::Node);
    let from = of("from", RelMemberType::Way);
    let to = of("to", RelMemberType::Way);
    if via.len() != 1 || from.is_empty() || to.is_empty() {
        return Err("incomplete");
    }
    if only && to.len() > 1 {
        return Err("only_with_several_to_ways");
    }
    let via_node = via[0];
    Ok(from
        .iter()
        .flat_map(|&f| {
            to.iter().map(move |&t| Restriction {
                from_way: f,
                via_node,
                to_way: t,
                only,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> OsmRules {
        OsmRules {
            restriction_tags: vec!["restriction".into(), "restriction:motorcar".into()],
            restriction_exempt: vec!["motorcar".into()],
            ..OsmRules::default()
        }
    }

    const MEMBERS: [(&str, RelMemberType, i64); 3] = [
        ("from", RelMemberType::Way, 1),
        ("via", RelMemberType::Node, 5),
        ("to", RelMemberType::Way, 2),
    ];

    #[test]
    fn prohibitive_and_mandatory_rows() {
        let r = rules();
        let rows = restriction_rows(&[("restriction", "no_left_turn")], &MEMBERS, &r).unwrap();
        let row = Restriction {
            from_way: 1,
            via_node: 5,
            to_way: 2,
            only: false,
        };
        assert_eq!(rows, vec![row]);
        let tags = [
            ("restriction", "no_left_turn"),
            ("restriction:motorcar", "only_straight_on"),
        ];
        assert!(restriction_rows(&tags, &MEMBERS, &r).unwrap()[0].only);
    }

    #[test]
    fn what_does_not_apply_is_named() {
        let r = rules();
        let why = |tags: &[(&str, &str)], m: &[(&str, RelMemberType, i64)]| {
            restriction_rows(tags, m, &r).unwrap_err()
        };
        assert_eq!(
            why(&[("restriction:hgv", "no_left_turn")], &MEMBERS),
            "other_vehicle"
        );
        let tags = [
            ("restriction", "no_u_turn"),
            ("except", "bicycle; motorcar"),
        ];
        assert_eq!(why(&tags, &MEMBERS), "exempt");
        assert_eq!(
            why(&[("restriction", "give_way")], &MEMBERS),
            "unknown_value"
        );
        let via_way = [
            ("from", RelMemberType::Way, 1),
            ("via", RelMemberType::Way, 3),
            ("to", RelMemberType::Way, 2),
        ];
        assert_eq!(why(&[("restriction", "no_u_turn")], &via_way), "via_way");
        assert_eq!(
            why(&[("restriction", "no_u_turn")], &MEMBERS[..2]),
            "incomplete"
        );
    }
}
