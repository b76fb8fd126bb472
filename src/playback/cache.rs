//! Texture-budget accounting: which decoded images are resident, their bytes against the
//! tier's budget, least-recently-used eviction, and the peak. GPU-free, so the accounting is
//! tested on the CPU; the renderer mirrors it with real textures.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// A least-recently-used set of entries with sizes in bytes and a byte budget.
#[derive(Debug, Clone)]
pub struct BudgetLru<K> {
    budget_bytes: u64,
    resident_bytes: u64,
    peak_bytes: u64,
    tick: u64,
    entries: HashMap<K, (u64, u64)>,
}

impl<K: Hash + Eq + Clone> BudgetLru<K> {
    /// An empty cache with a budget in bytes.
    #[must_use]
    pub fn new(budget_bytes: u64) -> Self {
        Self {
            budget_bytes,
            resident_bytes: 0,
            peak_bytes: 0,
            tick: 0,
            entries: HashMap::new(),
        }
    }

    /// Whether `key` is resident; marks it used.
    pub fn touch(&mut self, key: &K) -> bool {
        self.tick += 1;
        let tick = self.tick;
        match self.entries.get_mut(key) {
            Some(e) => {
                e.1 = tick;
                true
            }
            None => false,
        }
    }

    /// Makes room for `bytes` by evicting least-recently-used entries not in `pinned`, then
    /// records `key`. Returns the evicted keys (the caller frees their textures). The entry is
    /// recorded even when the pinned set alone exceeds the budget: the frame needs it, and the
    /// peak shows the overrun.
    pub fn insert(&mut self, key: K, bytes: u64, pinned: &HashSet<K>) -> Vec<K> {
        let mut evicted = Vec::new();
        while self.resident_bytes + bytes > self.budget_bytes {
            let victim = self
                .entries
                .iter()
                .filter(|(k, _)| !pinned.contains(*k))
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            let Some(victim) = victim else { break };
            if let Some((b, _)) = self.entries.remove(&victim) {
                self.resident_bytes -= b;
            }
            evicted.push(victim);
        }
        self.tick += 1;
        if let Some((old, _)) = self.entries.insert(key, (bytes, self.tick)) {
            self.resident_bytes -= old;
        }
        self.resident_bytes += bytes;
        self.peak_bytes = self.peak_bytes.max(self.resident_bytes);
        evicted
    }

    /// Drops an entry.
    pub fn remove(&mut self, key: &K) {
        if let Some((b, _)) = self.entries.remove(key) {
            self.resident_bytes -= b;
        }
    }

    /// Bytes resident now.
    #[must_use]
    pub fn resident_bytes(&self) -> u64 {
        self.resident_bytes
    }

    /// Most bytes ever resident.
    #[must_use]
    pub fn peak_bytes(&self) -> u64 {
        self.peak_bytes
    }

    /// The budget.
    #[must_use]
    pub fn budget_bytes(&self) -> u64 {
        self.budget_bytes
    }

    /// Number of resident entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is resident.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used_and_keeps_the_peak_in_budget() {
        let mut c = BudgetLru::new(300);
        let none = HashSet::new();
        assert!(c.insert("a", 100, &none).is_empty());
        assert!(c.insert("b", 100, &none).is_empty());
        assert!(c.insert("c", 100, &none).is_empty());
        assert!(c.touch(&"a"));
        assert_eq!(
            c.insert("d", 100, &none),
            vec!["b"],
            "b is the least recently used"
        );
        assert_eq!((c.resident_bytes(), c.peak_bytes(), c.len()), (300, 300, 3));
        assert!(!c.touch(&"b"));
    }

    #[test]
    fn pinned_entries_stay_and_overruns_show_in_the_peak() {
        let mut c = BudgetLru::new(150);
        let pinned: HashSet<_> = ["a", "b"].into_iter().collect();
        c.insert("a", 100, &pinned);
        let evicted = c.insert("b", 100, &pinned);
        assert!(evicted.is_empty(), "both are needed by the frame");
        assert_eq!(c.peak_bytes(), 200);
        c.remove(&"a");
        assert_eq!(c.resident_bytes(), 100);
    }
}
