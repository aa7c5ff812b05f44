//! [`SortedMap`]: a map kept as one `Vec` sorted by key.
//!
//! For the small keyed sets the flows and parsers keep (parts in flight, parts done, queued
//! attempts, profile sections, metadata). Entries arrive mostly in key order, so an insert is
//! usually a push; at these sizes lookups by binary search are as fast as a `BTreeMap`'s, and
//! each key and value type instantiates a fraction of the code: `BTreeMap` was a fifth of
//! s3-proto's LLVM IR (thirteen instantiations, ~6,000 lines each), which every user compiles.

use std::borrow::Borrow;
use std::fmt;

/// A map from `K` to `V`, iterated in key order, stored as a sorted `Vec`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SortedMap<K, V> {
    items: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap { items: Vec::new() }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SortedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.items.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// An empty map.
    pub(crate) const fn new() -> Self {
        SortedMap { items: Vec::new() }
    }

    /// Where `key` is (`Ok`), or where it would go (`Err`).
    fn position<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.items.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        // The usual case: keys come in increasing order.
        if self.items.last().is_none_or(|(last, _)| *last < key) {
            self.items.push((key, value));
            return None;
        }
        match self.position(&key) {
            Ok(i) => self
                .items
                .get_mut(i)
                .map(|(_, v)| std::mem::replace(v, value)),
            Err(i) => {
                self.items.insert(i, (key, value));
                None
            }
        }
    }

    /// The value of `key`, inserted with `make` first if it has none.
    pub(crate) fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.position(&key) {
            Ok(i) => i,
            Err(i) => {
                self.items.insert(i, (key, make()));
                i
            }
        };
        &mut self.items[i].1
    }

    /// Takes `key` out; returns its value.
    pub(crate) fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let i = self.position(key).ok()?;
        Some(self.items.remove(i).1)
    }

    /// The value of `key`.
    pub(crate) fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        let i = self.position(key).ok()?;
        self.items.get(i).map(|(_, v)| v)
    }

    /// The value of `key`, to change.
    pub(crate) fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        let i = self.position(key).ok()?;
        self.items.get_mut(i).map(|(_, v)| v)
    }

    /// Whether `key` has a value.
    pub(crate) fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.position(key).is_ok()
    }

    /// The entries whose key is below `key`, in order.
    pub(crate) fn below<Q: Ord + ?Sized>(&self, key: &Q) -> impl Iterator<Item = (&K, &V)>
    where
        K: Borrow<Q>,
    {
        let end = self.items.partition_point(|(k, _)| k.borrow() < key);
        self.items[..end].iter().map(|(k, v)| (k, v))
    }
}

impl<K, V> SortedMap<K, V> {
    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The entries in key order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.items.iter().map(|(k, v)| (k, v))
    }

    /// The keys in order.
    pub(crate) fn keys(&self) -> impl DoubleEndedIterator<Item = &K> {
        self.items.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub(crate) fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.items.iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::SortedMap;
    use std::collections::BTreeMap;

    /// Any sequence of inserts and removes leaves the same entries, in the same order, as a
    /// `BTreeMap` given the same sequence.
    #[test]
    fn behaves_as_a_btree_map() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut ours = SortedMap::new();
        let mut model = BTreeMap::new();
        for _ in 0..20_000 {
            let key = (next() % 97) as u32;
            let value = next();
            match next() % 5 {
                0 => assert_eq!(ours.remove(&key), model.remove(&key)),
                1 => assert_eq!(ours.get(&key), model.get(&key)),
                2 => {
                    *ours.get_or_insert_with(key, || 0) += 1;
                    *model.entry(key).or_insert(0) += 1;
                }
                _ => assert_eq!(ours.insert(key, value), model.insert(key, value)),
            }
            assert_eq!(ours.len(), model.len());
            assert_eq!(ours.contains_key(&key), model.contains_key(&key));
        }
        assert!(ours.iter().eq(model.iter()));
        assert!(ours.keys().eq(model.keys()));
        assert!(ours.values().eq(model.values()));
        assert!(ours.below(&50).eq(model.range(..50)));
        if let Some(v) = ours.get_mut(&3) {
            *v = 7;
        }
        model.entry(3).and_modify(|v| *v = 7);
        assert!(ours.iter().eq(model.iter()));
        assert_eq!(format!("{ours:?}"), format!("{model:?}"));
        for key in 0..97 {
            ours.remove(&key);
        }
        assert!(ours.is_empty());
    }

    #[test]
    fn string_keys_are_looked_up_by_str() {
        let mut map = SortedMap::new();
        map.insert("b".to_owned(), 2);
        map.insert("a".to_owned(), 1);
        assert_eq!(map.get("a"), Some(&1));
        assert_eq!(map.remove("b"), Some(2));
        assert!(!map.contains_key("b"));
        assert!(map.keys().eq(["a"]));
    }
}
