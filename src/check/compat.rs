//! The compatibility matrix (spec §3) and kill readiness (spec §6).
//!
//! A cell is one population entry of the fleet file: a client version on a tier with its
//! share of users. The bundle reaches a cell when `client ≥ min_client`; there each effect
//! resolves to its primary asset, a fallback, or a hole.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::bundle::manifest::{
    Asset, AssetFormat, AssetKind, Fallback, Manifest, cmp_precedence, parse_semver,
};
use crate::check::finding::{CellRef, Code, Finding, Reporter, round_share};
use crate::check::graph::MAX_FALLBACK_LINKS;

/// Built-in device tier names (spec §9).
pub const BUILTIN_TIERS: [&str; 3] = ["low", "mid", "high"];

/// Errors reading a fleet file (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The file could not be read.
    #[error("cannot read fleet {path:?}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a fleet.
    #[error("{path:?} is not a valid fleet file: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFleet {
    capabilities: Vec<RawCapability>,
    population: Vec<RawCell>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapability {
    format: String,
    since: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCell {
    client: String,
    tier: String,
    share: f64,
}

/// One population cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Client version.
    pub client: Version,
    /// Client version as written.
    pub client_text: String,
    /// Device tier.
    pub tier: String,
    /// Share of users, 0–1.
    pub share: f64,
}

impl Cell {
    fn to_ref(&self) -> CellRef {
        CellRef {
            client: self.client_text.clone(),
            tier: self.tier.clone(),
            share: self.share,
        }
    }
}

/// The fleet file (spec §3): which app versions play which formats, and who runs what.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// Format → first client version that plays it.
    pub capabilities: BTreeMap<AssetFormat, Version>,
    /// Population cells in file order.
    pub population: Vec<Cell>,
}

impl Fleet {
    /// Loads a fleet file.
    ///
    /// # Errors
    /// [`FleetError`] when unreadable, or when a format, version or share is invalid.
    pub fn load(path: &Path) -> Result<Self, FleetError> {
        let bytes = std::fs::read(path).map_err(|source| FleetError::Io {
            path: path.to_owned(),
            source,
        })?;
        let invalid = |message: String| FleetError::Invalid {
            path: path.to_owned(),
            message,
        };
        let raw: RawFleet = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        let mut capabilities = BTreeMap::new();
        for (i, c) in raw.capabilities.iter().enumerate() {
            let f = AssetFormat::from_name(&c.format).ok_or_else(|| {
                invalid(format!(
                    "capabilities[{i}].format {:?} is unknown",
                    c.format
                ))
            })?;
            let v = parse_semver(&c.since).ok_or_else(|| {
                invalid(format!(
                    "capabilities[{i}].since {:?} is not SemVer",
                    c.since
                ))
            })?;
            capabilities.insert(f, v);
        }
        let mut population = Vec::new();
        for (i, c) in raw.population.iter().enumerate() {
            let client = parse_semver(&c.client).ok_or_else(|| {
                invalid(format!(
                    "population[{i}].client {:?} is not SemVer",
                    c.client
                ))
            })?;
            if !(0.0..=1.0).contains(&c.share) {
                return Err(invalid(format!(
                    "population[{i}].share {} is not between 0 and 1",
                    c.share
                )));
            }
            population.push(Cell {
                client,
                client_text: c.client.clone(),
                tier: c.tier.clone(),
                share: c.share,
            });
        }
        Ok(Self {
            capabilities,
            population,
        })
    }
}

/// What users of one cell see for one effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "via", rename_all = "snake_case")]
pub enum Outcome {
    /// The effect itself plays.
    Primary,
    /// A fallback plays (asset id or `builtin:<name>`).
    Fallback(String),
    /// Nothing plays.
    Hole,
    /// The bundle is not delivered to this cell (client below `min_client`).
    NotDelivered,
}

/// Summed shares of one effect across the fleet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ShareSummary {
    /// Share of users who see the effect itself.
    pub primary: f64,
    /// Share who see a fallback.
    pub fallback: f64,
    /// Share who see nothing.
    pub hole: f64,
    /// Share the bundle does not reach.
    pub not_delivered: f64,
}

/// One row of the matrix: an effect across every cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixRow {
    /// Effect id.
    pub asset: String,
    /// One outcome per cell, in the order of [`Matrix::cells`].
    pub outcomes: Vec<Outcome>,
    /// Summed shares.
    pub shares: ShareSummary,
}

impl MatrixRow {
    /// The fallbacks (asset ids or `builtin:<name>`) this effect resolves to in some cell.
    #[must_use]
    pub fn fallbacks(&self) -> BTreeSet<&str> {
        self.outcomes
            .iter()
            .filter_map(|o| {
                if let Outcome::Fallback(v) = o {
                    Some(v.as_str())
                } else {
                    None
                }
            })
            .collect()
    }
}

/// The compatibility matrix: effects × cells.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matrix {
    /// The cells (fleet population) in file order.
    pub cells: Vec<CellRef>,
    /// One row per effect, in manifest order.
    pub rows: Vec<MatrixRow>,
}

/// Which effects are killed while the matrix is resolved.
pub trait KillSet {
    /// Whether the effect id is killed.
    fn is_killed(&self, id: &str) -> bool;
}

impl KillSet for BTreeSet<String> {
    fn is_killed(&self, id: &str) -> bool {
        self.contains(id) || self.contains("*")
    }
}

struct Resolver<'a> {
    m: &'a Manifest,
    fleet: &'a Fleet,
}

impl Resolver<'_> {
    /// Whether `a` plays in `cell` (spec §3), its dependencies resolved once each per query:
    /// linear in assets + edges, however the dependency graph branches and joins. A
    /// dependency cycle is not playable.
    fn playable(&self, a: &Asset, cell: &Cell, killed: &dyn KillSet) -> bool {
        let mut memo: std::collections::HashMap<&str, bool> = std::collections::HashMap::new();
        self.playable_in(a, cell, killed, &mut memo)
    }

    fn playable_in<'m>(
        &'m self,
        a: &'m Asset,
        cell: &Cell,
        killed: &dyn KillSet,
        memo: &mut std::collections::HashMap<&'m str, bool>,
    ) -> bool {
        if let Some(v) = memo.get(a.id.as_str()) {
            return *v;
        }
        // In progress: a cycle back to it is not playable.
        memo.insert(a.id.as_str(), false);
        let killable = a.kind == AssetKind::Effect;
        let own = !(killable && killed.is_killed(&a.id))
            && a.clients.as_ref().is_none_or(|r| r.contains(&cell.client))
            && a.tiers.as_ref().is_none_or(|t| t.contains(&cell.tier))
            && self
                .fleet
                .capabilities
                .get(&a.format)
                .is_some_and(|since| cmp_precedence(since, &cell.client).is_le());
        let ok = own
            && a.depends_on.iter().all(|d| {
                self.m
                    .asset(d)
                    .is_some_and(|d| self.playable_in(d, cell, killed, memo))
            });
        memo.insert(a.id.as_str(), ok);
        ok
    }

    fn resolve(&self, a: &Asset, cell: &Cell, killed: &dyn KillSet) -> Outcome {
        if cmp_precedence(&cell.client, &self.m.min_client).is_lt() {
            return Outcome::NotDelivered;
        }
        if self.playable(a, cell, killed) {
            return Outcome::Primary;
        }
        let mut cur = a;
        for _ in 0..MAX_FALLBACK_LINKS {
            match &cur.fallback {
                None => return Outcome::Hole,
                Some(Fallback::Builtin(name)) => {
                    return Outcome::Fallback(format!("builtin:{name}"));
                }
                Some(Fallback::Asset(id)) => {
                    let Some(next) = self.m.asset(id) else {
                        return Outcome::Hole;
                    };
                    if self.playable(next, cell, killed) {
                        return Outcome::Fallback(id.clone());
                    }
                    cur = next;
                }
            }
        }
        Outcome::Hole
    }
}

/// Resolves every effect in every cell with the given kills (spec §3).
#[must_use]
pub fn build_matrix(m: &Manifest, fleet: &Fleet, killed: &dyn KillSet) -> Matrix {
    let r = Resolver { m, fleet };
    let rows = m
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::Effect)
        .map(|a| {
            let outcomes: Vec<Outcome> = fleet
                .population
                .iter()
                .map(|c| r.resolve(a, c, killed))
                .collect();
            let mut s = ShareSummary::default();
            for (o, c) in outcomes.iter().zip(&fleet.population) {
                match o {
                    Outcome::Primary => s.primary += c.share,
                    Outcome::Fallback(_) => s.fallback += c.share,
                    Outcome::Hole => s.hole += c.share,
                    Outcome::NotDelivered => s.not_delivered += c.share,
                }
            }
            s = ShareSummary {
                primary: round_share(s.primary),
                fallback: round_share(s.fallback),
                hole: round_share(s.hole),
                not_delivered: round_share(s.not_delivered),
            };
            MatrixRow {
                asset: a.id.clone(),
                outcomes,
                shares: s,
            }
        })
        .collect();
    Matrix {
        cells: fleet.population.iter().map(Cell::to_ref).collect(),
        rows,
    }
}

/// Checks client ranges and tiers against the manifest (no fleet needed): `compat-empty-range`,
/// `compat-below-min`, `tier-unknown`.
pub fn check_ranges(m: &Manifest, known_tiers: &[&str], rep: &mut Reporter) {
    for a in &m.assets {
        if let Some(r) = &a.clients {
            let min = r.min.as_ref().unwrap_or(&m.min_client);
            if let Some(below) = &r.below
                && (cmp_precedence(min, below).is_ge()
                    || cmp_precedence(below, &m.min_client).is_le())
            {
                rep.push(
                        Finding::new(Code::CompatEmptyRange, format!("clients range [{min}, {below}) holds no client the bundle is delivered to (min_client {})", m.min_client))
                            .asset(a.id.clone())
                            .expected_actual(format!("below > max(min, {})", m.min_client), format!("below {below}")),
                    );
                continue;
            }
            if let Some(rmin) = &r.min
                && cmp_precedence(rmin, &m.min_client).is_lt()
            {
                rep.push(
                        Finding::new(Code::CompatBelowMin, format!("clients.min {rmin} is below the bundle's min_client {}; clients under it never receive the bundle", m.min_client))
                            .asset(a.id.clone())
                            .expected_actual(format!("≥ {}", m.min_client), rmin.to_string()),
                    );
            }
        }
        for t in a.tiers.iter().flatten() {
            if !known_tiers.contains(&t.as_str()) {
                rep.push(
                    Finding::new(
                        Code::TierUnknown,
                        format!(
                            "tier {t:?} is not a known tier ({})",
                            known_tiers.join(", ")
                        ),
                    )
                    .asset(a.id.clone())
                    .expected_actual(known_tiers.join("|"), t.clone()),
                );
            }
        }
    }
}

/// Checks the matrix over the fleet: `fleet-capability-missing`, fleet tiers, `compat-hole`,
/// `fallback-used` and `kill-not-ready`. Returns the matrix with the given kills applied.
pub fn check_fleet(
    m: &Manifest,
    fleet: &Fleet,
    known_tiers: &[&str],
    killed: &dyn KillSet,
    rep: &mut Reporter,
) -> Matrix {
    let mut missing: BTreeMap<AssetFormat, Vec<&str>> = BTreeMap::new();
    for a in &m.assets {
        if !fleet.capabilities.contains_key(&a.format) {
            missing.entry(a.format).or_default().push(&a.id);
        }
    }
    for (f, ids) in missing {
        rep.push(
            Finding::new(Code::FleetCapabilityMissing, format!("no client in the fleet file declares format {f} (used by {}); those assets play nowhere", ids.join(", ")))
                .expected_actual(format!("a capability for {f}"), "none"),
        );
    }
    let tiers: BTreeSet<&str> = fleet.population.iter().map(|c| c.tier.as_str()).collect();
    for t in tiers {
        if !known_tiers.contains(&t) {
            rep.push(
                Finding::new(
                    Code::TierUnknown,
                    format!(
                        "the fleet's population uses tier {t:?}, which is not a known tier ({})",
                        known_tiers.join(", ")
                    ),
                )
                .path("fleet")
                .expected_actual(known_tiers.join("|"), t),
            );
        }
    }
    let matrix = build_matrix(m, fleet, killed);
    for row in &matrix.rows {
        let pick = |want: &dyn Fn(&Outcome) -> bool| -> Vec<CellRef> {
            row.outcomes
                .iter()
                .zip(&fleet.population)
                .filter(|(o, _)| want(o))
                .map(|(_, c)| c.to_ref())
                .collect()
        };
        let holes = pick(&|o| *o == Outcome::Hole);
        if !holes.is_empty() {
            let share: f64 = holes.iter().map(|c| c.share).sum();
            rep.push(
                Finding::new(
                    Code::CompatHole,
                    format!(
                        "nothing plays in {} cell(s), {:.2}% of users",
                        holes.len(),
                        share * 100.0
                    ),
                )
                .asset(row.asset.clone())
                .cells(holes),
            );
        }
        let fallbacks = pick(&|o| matches!(o, Outcome::Fallback(_)));
        if !fallbacks.is_empty() {
            let share: f64 = fallbacks.iter().map(|c| c.share).sum();
            let via = row.fallbacks();
            rep.push(
                Finding::new(Code::FallbackUsed, format!("falls back to {} in {} cell(s), {:.2}% of users (predicted fallback activation)", via.into_iter().collect::<Vec<_>>().join(", "), fallbacks.len(), share * 100.0))
                    .asset(row.asset.clone())
                    .cells(fallbacks),
            );
        }
    }
    // Kill readiness: killing an effect must leave a playable fallback wherever it plays.
    let r = Resolver { m, fleet };
    for a in m.assets.iter().filter(|a| a.kind == AssetKind::Effect) {
        let mut kills = BTreeSet::new();
        kills.insert(a.id.clone());
        let not_ready: Vec<CellRef> = fleet
            .population
            .iter()
            .filter(|c| r.resolve(a, c, killed) == Outcome::Primary)
            .filter(|c| r.resolve(a, c, &Union(killed, &kills)) == Outcome::Hole)
            .map(Cell::to_ref)
            .collect();
        if !not_ready.is_empty() {
            let share: f64 = not_ready.iter().map(|c| c.share).sum();
            rep.push(
                Finding::new(Code::KillNotReady, format!("killing it would leave nothing playable in {} cell(s), {:.2}% of users; give it a fallback", not_ready.len(), share * 100.0))
                    .asset(a.id.clone())
                    .cells(not_ready),
            );
        }
    }
    matrix
}

struct Union<'a>(&'a dyn KillSet, &'a BTreeSet<String>);

impl KillSet for Union<'_> {
    fn is_killed(&self, id: &str) -> bool {
        self.0.is_killed(id) || self.1.is_killed(id)
    }
}

/// What each effect of `m` plays on `tier` (spec §3, §6), as a smoke run or the preview
/// plays it. With a fleet, the tier's newest delivered client stands for the tier (its
/// matrix cell); without one, only the effect's `tiers`, kills and fallback chain are known
/// (clients, capabilities and dependencies are not).
#[must_use]
pub fn plays_on_tier(
    m: &Manifest,
    fleet: Option<&Fleet>,
    tier: &str,
    killed: &dyn KillSet,
) -> BTreeMap<String, crate::playback::engine::Plays> {
    use crate::playback::engine::Plays;
    let effects = m.assets.iter().filter(|a| a.kind == AssetKind::Effect);
    let Some(fleet) = fleet else {
        return effects
            .map(|a| (a.id.clone(), plays_without_fleet(m, a, tier, killed)))
            .collect();
    };
    let newest = fleet
        .population
        .iter()
        .filter(|c| c.tier == tier && cmp_precedence(&c.client, &m.min_client).is_ge())
        .max_by(|a, b| cmp_precedence(&a.client, &b.client));
    let Some(cell) = newest else {
        return effects.map(|a| (a.id.clone(), Plays::Itself)).collect();
    };
    let r = Resolver { m, fleet };
    effects
        .map(|a| {
            let plays = match r.resolve(a, cell, killed) {
                Outcome::Primary => Plays::Itself,
                Outcome::Fallback(f) => match f.strip_prefix("builtin:") {
                    Some(b) => Plays::Builtin(b.to_owned()),
                    None => Plays::Fallback(f),
                },
                Outcome::Hole => Plays::Nothing(format!(
                    "a hole on client {} tier {tier}: nothing playable",
                    cell.client_text
                )),
                Outcome::NotDelivered => Plays::Nothing("not delivered".into()),
            };
            (a.id.clone(), plays)
        })
        .collect()
}

fn plays_without_fleet(
    m: &Manifest,
    effect: &Asset,
    tier: &str,
    killed: &dyn KillSet,
) -> crate::playback::engine::Plays {
    use crate::playback::engine::Plays;
    let ok = |a: &Asset| {
        !(a.kind == AssetKind::Effect && killed.is_killed(&a.id))
            && a.tiers.as_ref().is_none_or(|t| t.iter().any(|x| x == tier))
    };
    let mut cur = effect;
    for _ in 0..=MAX_FALLBACK_LINKS {
        if ok(cur) {
            return if cur.id == effect.id {
                Plays::Itself
            } else {
                Plays::Fallback(cur.id.clone())
            };
        }
        match &cur.fallback {
            None => break,
            Some(Fallback::Builtin(name)) => return Plays::Builtin(name.clone()),
            Some(Fallback::Asset(id)) => match m.asset(id) {
                Some(next) => cur = next,
                None => break,
            },
        }
    }
    Plays::Nothing(format!(
        "not delivered to tier {tier} and no playable fallback"
    ))
}
