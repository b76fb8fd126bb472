//! Burst scenarios (spec §9) and the scheduler: sends over time, at most `max_concurrent`
//! playing, a FIFO queue of at most `queue_limit`, drops counted.

use std::collections::VecDeque;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One event: `repeat` sends of `asset` (`*`: every effect in manifest order), `every_ms`
/// apart, from `at_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Start, ms after the scenario starts.
    pub at_ms: u64,
    /// Asset id, or `*`.
    pub asset: String,
    /// Number of sends.
    #[serde(default = "one")]
    pub repeat: u32,
    /// Gap between sends, ms.
    #[serde(default)]
    pub every_ms: u64,
}

fn one() -> u32 {
    1
}

/// A scenario file (spec §9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// How long the scenario runs, ms; `0` runs until every accepted send has played.
    pub duration_ms: u64,
    /// Most effects playing at once.
    pub max_concurrent: u32,
    /// Most sends waiting; later ones are dropped.
    pub queue_limit: u32,
    /// Events.
    pub events: Vec<Event>,
}

/// Names of the built-in scenarios.
pub const BUILTIN_NAMES: [&str; 6] = [
    "single",
    "combo-x10",
    "storm",
    "spam-100",
    "n-up-10",
    "n-up-50",
];

/// A built-in scenario for a bundle whose effects are `effects` (manifest order).
///
/// - `single`: each effect alone, one after the other, until all have played.
/// - `combo-x10`: the first effect sent 10 times, 150 ms apart (3 at once, queue 50), 6 s.
/// - `storm`: every effect three times within one second (8 at once, queue 50), 6 s.
/// - `spam-100`: the first effect sent 100 times, 50 ms apart (3 at once, queue 50), 8 s.
/// - `n-up-10`, `n-up-50`: that many effects at once, cycling through the effects, 5 s.
#[must_use]
pub fn builtin(name: &str, effects: &[String]) -> Option<Scenario> {
    let first = effects.first().cloned().unwrap_or_default();
    let n = effects.len() as u32;
    let s = |name: &str, duration_ms, max_concurrent, queue_limit, events| Scenario {
        name: name.into(),
        duration_ms,
        max_concurrent,
        queue_limit,
        events,
    };
    let all = |at_ms| Event {
        at_ms,
        asset: "*".into(),
        repeat: 1,
        every_ms: 0,
    };
    Some(match name {
        "single" => s("single", 0, 1, n.max(1), vec![all(0)]),
        "combo-x10" => s(
            "combo-x10",
            6000,
            3,
            50,
            vec![Event {
                at_ms: 0,
                asset: first,
                repeat: 10,
                every_ms: 150,
            }],
        ),
        "storm" => s("storm", 6000, 8, 50, vec![all(0), all(333), all(666)]),
        "spam-100" => s(
            "spam-100",
            8000,
            3,
            50,
            vec![Event {
                at_ms: 0,
                asset: first,
                repeat: 100,
                every_ms: 50,
            }],
        ),
        "n-up-10" | "n-up-50" => {
            let k: u32 = if name == "n-up-10" { 10 } else { 50 };
            let events = (0..k)
                .map(|i| Event {
                    at_ms: 0,
                    asset: effects
                        .get((i % n.max(1)) as usize)
                        .cloned()
                        .unwrap_or_default(),
                    repeat: 1,
                    every_ms: 0,
                })
                .collect();
            s(name, 5000, k, 0, events)
        }
        _ => return None,
    })
}

/// Errors reading a scenario (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct ScenarioError {
    /// The name or file.
    pub source_name: String,
    /// Why.
    pub message: String,
}

/// A built-in by name, or a scenario file.
///
/// # Errors
/// [`ScenarioError`] for an unknown name or an unreadable file.
pub fn resolve(name_or_file: &str, effects: &[String]) -> Result<Scenario, ScenarioError> {
    if let Some(s) = builtin(name_or_file, effects) {
        return Ok(s);
    }
    let path = Path::new(name_or_file);
    let err = |message: String| ScenarioError {
        source_name: name_or_file.to_owned(),
        message,
    };
    if !path.exists() {
        return Err(err(format!(
            "not a built-in scenario ({}) and no such file",
            BUILTIN_NAMES.join(", ")
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let s: Scenario = serde_json::from_slice(&bytes).map_err(|e| err(e.to_string()))?;
    if s.max_concurrent == 0 {
        return Err(err("max_concurrent must be at least 1".into()));
    }
    let sends: u64 = s
        .events
        .iter()
        .map(|e| {
            u64::from(e.repeat)
                * if e.asset == "*" {
                    effects.len() as u64
                } else {
                    1
                }
        })
        .sum();
    if sends > 100_000 {
        return Err(err(format!("{sends} sends; at most 100000")));
    }
    Ok(s)
}

/// One send: an effect the scenario asks for at `at_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Send {
    /// Sequence number, in send order.
    pub id: u32,
    /// Effect id.
    pub asset: String,
    /// When it is sent, ms after the start.
    pub at_ms: u64,
}

/// Expands the events into sends ordered by time (ties keep event order).
#[must_use]
pub fn expand(s: &Scenario, effects: &[String]) -> Vec<Send> {
    let mut sends = Vec::new();
    for e in &s.events {
        for r in 0..e.repeat {
            let at_ms = e.at_ms + u64::from(r) * e.every_ms;
            if e.asset == "*" {
                for id in effects {
                    sends.push((at_ms, id.clone()));
                }
            } else {
                sends.push((at_ms, e.asset.clone()));
            }
        }
    }
    sends.sort_by_key(|(at, _)| *at);
    sends
        .into_iter()
        .enumerate()
        .map(|(i, (at_ms, asset))| Send {
            id: i as u32,
            asset,
            at_ms,
        })
        .collect()
}

/// What the scheduler decided for a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Starts playing now.
    Start,
    /// Waits in the queue.
    Queued,
    /// Dropped: the queue is full.
    Dropped,
}

/// The scheduler: at most `max_concurrent` playing, a FIFO queue of at most `queue_limit`.
#[derive(Debug, Clone)]
pub struct Scheduler {
    max_concurrent: u32,
    queue_limit: u32,
    playing: u32,
    queue: VecDeque<u32>,
    /// Sends dropped so far.
    pub dropped: Vec<u32>,
}

impl Scheduler {
    /// A scheduler for a scenario.
    #[must_use]
    pub fn new(s: &Scenario) -> Self {
        Self {
            max_concurrent: s.max_concurrent.max(1),
            queue_limit: s.queue_limit,
            playing: 0,
            queue: VecDeque::new(),
            dropped: Vec::new(),
        }
    }

    /// A send arrives.
    pub fn send(&mut self, id: u32) -> Admit {
        if self.playing < self.max_concurrent && self.queue.is_empty() {
            self.playing += 1;
            Admit::Start
        } else if (self.queue.len() as u32) < self.queue_limit {
            self.queue.push_back(id);
            Admit::Queued
        } else {
            self.dropped.push(id);
            Admit::Dropped
        }
    }

    /// An effect finished; returns the queued sends that start now (FIFO).
    pub fn finished(&mut self) -> Vec<u32> {
        self.playing = self.playing.saturating_sub(1);
        let mut started = Vec::new();
        while self.playing < self.max_concurrent {
            let Some(id) = self.queue.pop_front() else {
                break;
            };
            self.playing += 1;
            started.push(id);
        }
        started
    }

    /// Effects playing now.
    #[must_use]
    pub fn playing(&self) -> u32 {
        self.playing
    }

    /// Sends waiting now.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effects() -> Vec<String> {
        vec!["a".into(), "b".into(), "c".into()]
    }

    #[test]
    fn builtins_expand() {
        let e = effects();
        assert_eq!(expand(&builtin("storm", &e).unwrap(), &e).len(), 9);
        let spam = expand(&builtin("spam-100", &e).unwrap(), &e);
        assert_eq!(
            (spam.len(), spam[99].at_ms, spam[99].asset.as_str()),
            (100, 4950, "a")
        );
        let n50 = expand(&builtin("n-up-50", &e).unwrap(), &e);
        assert_eq!((n50.len(), n50[4].asset.as_str()), (50, "b"));
        assert!(builtin("nope", &e).is_none());
    }

    #[test]
    fn fifo_queue_and_drops() {
        let s = Scenario {
            name: "t".into(),
            duration_ms: 0,
            max_concurrent: 2,
            queue_limit: 1,
            events: vec![],
        };
        let mut q = Scheduler::new(&s);
        assert_eq!(
            [q.send(0), q.send(1), q.send(2), q.send(3)],
            [Admit::Start, Admit::Start, Admit::Queued, Admit::Dropped]
        );
        assert_eq!(q.dropped, vec![3]);
        assert_eq!(q.finished(), vec![2]);
        assert_eq!((q.playing(), q.queued()), (2, 0));
        assert!(q.finished().is_empty());
        assert_eq!(q.playing(), 1);
    }
}
