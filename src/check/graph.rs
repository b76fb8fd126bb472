//! The dependency and fallback graph (spec §2, §3): unknown ids, cycles, and fallback chains
//! longer than 3 links.

use std::collections::{BTreeSet, HashMap};

use crate::bundle::manifest::{Fallback, Manifest};
use crate::check::finding::{Code, Finding, Reporter};

/// Most fallback links a chain may have (spec §3).
pub const MAX_FALLBACK_LINKS: usize = 3;

/// Reports `dep-unknown`, `dep-cycle`, `fallback-unknown`, `fallback-cycle` and
/// `fallback-chain-too-long`. Returns whether the graph is sound (no error found), which the
/// compatibility matrix needs before it can resolve chains.
pub fn check_graph(m: &Manifest, rep: &mut Reporter) -> bool {
    let index: HashMap<&str, usize> = m
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let mut sound = true;
    for a in &m.assets {
        for d in &a.depends_on {
            if !index.contains_key(d.as_str()) {
                rep.push(
                    Finding::new(
                        Code::DepUnknown,
                        format!("depends on {d:?}, which is not an asset of this bundle"),
                    )
                    .asset(a.id.clone()),
                );
                sound = false;
            }
        }
        if let Some(Fallback::Asset(f)) = &a.fallback
            && !index.contains_key(f.as_str())
        {
            rep.push(Finding::new(Code::FallbackUnknown, format!("falls back to {f:?}, which is not an asset of this bundle (use builtin:<name> for an effect compiled into the app)")).asset(a.id.clone()));
            sound = false;
        }
    }
    // Dependency cycles: depth-first search with colours; each cycle reported once, on its
    // smallest id.
    let mut colour = vec![0u8; m.assets.len()];
    let mut cycles: BTreeSet<Vec<String>> = BTreeSet::new();
    for start in 0..m.assets.len() {
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        let mut path: Vec<usize> = Vec::new();
        if colour[start] != 0 {
            continue;
        }
        while let Some((node, next)) = stack.pop() {
            if next == 0 {
                colour[node] = 1;
                path.push(node);
            }
            let deps: Vec<usize> = m.assets[node]
                .depends_on
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .collect();
            if let Some(&child) = deps.get(next) {
                stack.push((node, next + 1));
                match colour[child] {
                    0 => stack.push((child, 0)),
                    1 => {
                        let pos = path.iter().position(|&p| p == child).unwrap_or(0);
                        let mut cyc: Vec<String> = path[pos..]
                            .iter()
                            .map(|&i| m.assets[i].id.clone())
                            .collect();
                        let min = cyc
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, s)| (*s).clone())
                            .map_or(0, |(i, _)| i);
                        cyc.rotate_left(min);
                        cycles.insert(cyc);
                    }
                    _ => {}
                }
            } else {
                colour[node] = 2;
                path.pop();
            }
        }
    }
    for cyc in cycles {
        let mut shown = cyc.clone();
        shown.push(cyc[0].clone());
        rep.push(
            Finding::new(
                Code::DepCycle,
                format!("dependency cycle: {}", shown.join(" → ")),
            )
            .asset(cyc[0].clone()),
        );
        sound = false;
    }
    // Fallback chains.
    let mut reported_cycles = BTreeSet::new();
    for a in &m.assets {
        let mut seen = vec![a.id.as_str()];
        let mut cur = a;
        let mut links = 0;
        while let Some(fb) = &cur.fallback {
            links += 1;
            let Fallback::Asset(next) = fb else { break };
            let Some(&ni) = index.get(next.as_str()) else {
                break;
            };
            if seen.contains(&next.as_str()) {
                let pos = seen.iter().position(|s| *s == next).unwrap_or(0);
                let mut cyc: Vec<&str> = seen[pos..].to_vec();
                let min = cyc
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, s)| **s)
                    .map_or(0, |(i, _)| i);
                cyc.rotate_left(min);
                if reported_cycles.insert(cyc.join(",")) {
                    let mut shown: Vec<&str> = cyc.clone();
                    shown.push(cyc[0]);
                    rep.push(
                        Finding::new(
                            Code::FallbackCycle,
                            format!("fallback cycle: {}", shown.join(" → ")),
                        )
                        .asset(cyc[0]),
                    );
                }
                sound = false;
                break;
            }
            seen.push(next.as_str());
            cur = &m.assets[ni];
            if links > MAX_FALLBACK_LINKS {
                break;
            }
        }
        if links > MAX_FALLBACK_LINKS
            && !reported_cycles
                .iter()
                .any(|c| c.split(',').any(|s| s == a.id))
        {
            rep.push(
                Finding::new(
                    Code::FallbackChainTooLong,
                    format!(
                        "fallback chain {} has more than {MAX_FALLBACK_LINKS} links",
                        seen.join(" → ")
                    ),
                )
                .asset(a.id.clone())
                .expected_actual(
                    format!("≤ {MAX_FALLBACK_LINKS} links"),
                    format!("{links}+ links"),
                ),
            );
            sound = false;
        }
    }
    sound
}
