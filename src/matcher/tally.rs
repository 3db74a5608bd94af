//! Per-story bookkeeping of term and entity hits, without sorting them.
//!
//! A story has tens of hits; a watch asks, for each of its terms, whether and in which fields it
//! occurs, and a matched watch asks for the hits themselves. Sorting the hits by term answered
//! both and cost more than the rest of evaluation: here one pass files each key in a small
//! open-addressing table, and the hits are grouped by key with one more pass when wanted.

/// For each key (a term or an entity index) of a story, the fields it occurs in and how many
/// hits it has.
pub(super) struct Tally {
    /// A power of two long and at most half full; unused slots have the key `EMPTY`.
    slots: Vec<Slot>,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    key: u32,
    /// The union of the field masks the key came with.
    fields: u8,
    count: u32,
}

/// Items grouped by their key, each group in the items' own order.
pub(super) struct Grouped<T> {
    /// For each slot of the tally, where its group ends in `items` (it starts its count
    /// before).
    ends: Vec<u32>,
    items: Vec<T>,
}

impl Tally {
    /// No term or entity has this index.
    const EMPTY: u32 = u32::MAX;

    /// The tally of `(key, field mask)` pairs.
    pub fn new(pairs: impl ExactSizeIterator<Item = (u32, u8)>) -> Tally {
        let empty = Slot { key: Self::EMPTY, fields: 0, count: 0 };
        let mut tally = Tally { slots: vec![empty; (2 * pairs.len()).next_power_of_two()] };
        for (key, mask) in pairs {
            let i = tally.slot(key);
            let slot = &mut tally.slots[i];
            *slot = Slot { key, fields: slot.fields | mask, count: slot.count + 1 };
        }
        tally
    }

    /// The slot of `key`: where it is, or the empty one where it would go.
    fn slot(&self, key: u32) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = (key.wrapping_mul(0x9E37_79B9) >> 8) as usize & mask;
        while self.slots[i].key != key && self.slots[i].key != Self::EMPTY {
            i = (i + 1) & mask;
        }
        i
    }

    /// The fields `key` occurs in (none when it does not).
    pub fn fields(&self, key: u32) -> u8 {
        self.slots[self.slot(key)].fields
    }

    /// Every key, once, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots.iter().map(|s| s.key).filter(|&k| k != Self::EMPTY)
    }

    /// `items`, whose keys by `key` are the ones this tally counted, grouped by key.
    pub fn group<T: Copy>(&self, items: &[T], key: impl Fn(&T) -> u32) -> Grouped<T> {
        // Each slot's first place, made by a map over the slots rather than a loop of pushes:
        // a list of known length is filled without a capacity check for each slot.
        let mut at = 0;
        let mut next: Vec<u32> = self
            .slots
            .iter()
            .map(|slot| {
                at += slot.count;
                at - slot.count
            })
            .collect();
        // Every place is written once, as the counts are the items' own; each slot's next
        // place ends as its group's end.
        let mut placed = items.to_vec();
        for item in items {
            let i = self.slot(key(item));
            placed[next[i] as usize] = *item;
            next[i] += 1;
        }
        Grouped { ends: next, items: placed }
    }

    /// The items of `key` in `grouped` (which this tally grouped).
    pub fn items<'g, T>(&self, grouped: &'g Grouped<T>, key: u32) -> &'g [T] {
        let i = self.slot(key);
        let end = grouped.ends[i] as usize;
        &grouped.items[end - self.slots[i].count as usize..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unions_fields_and_groups_in_order() {
        let pairs = [(7u32, 1u8), (3, 2), (7, 4), (1_000_000, 1), (3, 2), (0, 8)];
        let tally = Tally::new(pairs.iter().copied());
        assert_eq!(tally.fields(7), 5);
        assert_eq!(tally.fields(3), 2);
        assert_eq!(tally.fields(0), 8);
        assert_eq!(tally.fields(1_000_000), 1);
        assert_eq!(tally.fields(4), 0);
        let mut keys: Vec<u32> = tally.keys().collect();
        keys.sort_unstable();
        assert_eq!(keys, [0, 3, 7, 1_000_000]);
        let items: Vec<(u32, usize)> = pairs.iter().enumerate().map(|(i, p)| (p.0, i)).collect();
        let grouped = tally.group(&items, |it| it.0);
        assert_eq!(tally.items(&grouped, 7), &[(7, 0), (7, 2)]);
        assert_eq!(tally.items(&grouped, 3), &[(3, 1), (3, 4)]);
        assert_eq!(tally.items(&grouped, 0), &[(0, 5)]);
        assert!(tally.items(&grouped, 4).is_empty());
    }

    #[test]
    fn an_empty_story_has_no_keys() {
        let tally = Tally::new(std::iter::empty());
        assert_eq!(tally.fields(0), 0);
        assert_eq!(tally.keys().count(), 0);
        let grouped = tally.group::<u32>(&[], |&k| k);
        assert!(tally.items(&grouped, 0).is_empty());
    }
}
