//! Shared-memory grants: who offered which pages to whom, and who may
//! accept and revoke them.
//!
//! A grant is made by one process (the *granter*) for one other (the
//! *receiver*, fixed when the grant is made); only the receiver can accept
//! it, once; either of the two can revoke it; it ends with either process.
//! Ids are slot indices with a generation, so the id of a grant that ended
//! never names a later one.
//!
//! A process is named by the id of the thread that runs it (as device
//! ownership does). The frames are not here: they are the granter's pages,
//! which the kernel reads from its page tables when the grant is accepted.

use alloc::vec::Vec;

use crate::sched::ThreadId;
use crate::slot_table::SlotTable;
use crate::user_memory::PageRange;

/// A grant's id, as a process sees it: a word below 2^63 (a system call's
/// success value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantId(ThreadId);

impl GrantId {
    /// The word a process is given. The generation's top bit is dropped:
    /// a slot reused 2^31 times gives ids that find nothing (`BadGrant`),
    /// never another grant.
    pub fn to_word(self) -> u64 {
        self.0 .0 & (u64::MAX >> 1)
    }

    /// The id a process passes back (any word: an unknown one finds
    /// nothing).
    pub fn from_word(word: u64) -> Self {
        Self(ThreadId(word))
    }
}

/// One grant.
#[derive(Debug, PartialEq, Eq)]
pub struct Grant {
    /// The process that made it.
    pub granter: ThreadId,
    /// The only process that may accept it.
    pub receiver: ThreadId,
    /// The granter's pages.
    pub pages: PageRange,
    /// The receiver may write them.
    pub writable: bool,
    /// Where the receiver mapped them, once it accepted.
    pub accepted: Option<PageRange>,
}

/// Why the table refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantError {
    /// The granter has offered as many grants as it may.
    TooMany,
    /// No grant with this id for this caller (unknown, ended, another
    /// process's, or accepted already).
    Unknown,
}

/// Every live grant.
#[derive(Debug)]
pub struct GrantTable {
    grants: SlotTable<Grant>,
    /// Most grants one process may have offered at once.
    per_granter: usize,
}

impl GrantTable {
    /// An empty table; each process may offer `per_granter` grants at once.
    pub fn new(per_granter: usize) -> Self {
        Self { grants: SlotTable::new(), per_granter }
    }

    /// Records a grant of `pages` by `granter` for `receiver`.
    pub fn offer(&mut self, granter: ThreadId, receiver: ThreadId, pages: PageRange, writable: bool) -> Result<GrantId, GrantError> {
        if self.grants.iter().filter(|(_, g)| g.granter == granter).count() >= self.per_granter {
            return Err(GrantError::TooMany);
        }
        let grant = Grant { granter, receiver, pages, writable, accepted: None };
        Ok(GrantId(self.grants.allocate(grant)))
    }

    /// The grant `id` if `receiver` may accept it now (it is offered to
    /// `receiver` and not accepted yet).
    pub fn acceptable(&self, id: GrantId, receiver: ThreadId) -> Result<&Grant, GrantError> {
        match self.grants.get(&id.0) {
            Some(g) if g.receiver == receiver && g.accepted.is_none() => Ok(g),
            _ => Err(GrantError::Unknown),
        }
    }

    /// Records that the receiver mapped the grant at `at` (after
    /// [`GrantTable::acceptable`] said it may).
    pub fn mark_accepted(&mut self, id: GrantId, at: PageRange) -> Result<(), GrantError> {
        let g = self.grants.get_mut(&id.0).ok_or(GrantError::Unknown)?;
        if g.accepted.is_some() {
            return Err(GrantError::Unknown);
        }
        g.accepted = Some(at);
        Ok(())
    }

    /// Ends grant `id` for `caller`, its granter or its receiver; returns
    /// it (the kernel unmaps what the receiver accepted).
    pub fn revoke(&mut self, id: GrantId, caller: ThreadId) -> Result<Grant, GrantError> {
        match self.grants.get(&id.0) {
            Some(g) if g.granter == caller || g.receiver == caller => self.grants.remove(&id.0).ok_or(GrantError::Unknown),
            _ => Err(GrantError::Unknown),
        }
    }

    /// True if a grant of `granter` offers a page of `range`.
    pub fn offers(&self, granter: ThreadId, range: &PageRange) -> bool {
        self.grants.iter().any(|(_, g)| g.granter == granter && g.pages.overlaps(range))
    }

    /// Ends every grant `process` made or was offered (it has ended);
    /// returns them with their ids.
    pub fn take_of(&mut self, process: ThreadId) -> Vec<(GrantId, Grant)> {
        let ids: Vec<ThreadId> =
            self.grants.iter().filter(|(_, g)| g.granter == process || g.receiver == process).map(|(id, _)| *id).collect();
        ids.into_iter().filter_map(|id| self.grants.remove(&id).map(|g| (GrantId(id), g))).collect()
    }

    /// Live grants, and how many of them are accepted.
    pub fn counts(&self) -> (usize, usize) {
        (self.grants.len(), self.grants.iter().filter(|(_, g)| g.accepted.is_some()).count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: ThreadId = ThreadId(1);
    const B: ThreadId = ThreadId(2);
    const C: ThreadId = ThreadId(3);
    const BASE: u64 = 0x1000_0000;

    fn pages(start: u64, n: u64) -> PageRange {
        PageRange::try_new(start, n * 4096, 1 << 30).expect("valid")
    }

    #[test]
    fn only_the_receiver_accepts_and_only_once() {
        let mut t = GrantTable::new(4);
        let id = t.offer(A, B, pages(BASE, 2), true).expect("room");
        assert_eq!(t.acceptable(id, A).err(), Some(GrantError::Unknown), "the granter cannot accept");
        assert_eq!(t.acceptable(id, C).err(), Some(GrantError::Unknown), "nor a third process");
        assert_eq!(t.acceptable(id, B).map(|g| g.pages), Ok(pages(BASE, 2)));
        t.mark_accepted(id, pages(BASE * 2, 2)).expect("offered");
        assert_eq!(t.acceptable(id, B).err(), Some(GrantError::Unknown), "accepted already");
        assert_eq!(t.mark_accepted(id, pages(BASE * 2, 2)), Err(GrantError::Unknown));
        assert_eq!(t.counts(), (1, 1));
    }

    #[test]
    fn either_side_revokes_and_the_id_dies() {
        let mut t = GrantTable::new(4);
        let id = t.offer(A, B, pages(BASE, 1), false).expect("room");
        assert_eq!(t.revoke(id, C).err(), Some(GrantError::Unknown), "a third process cannot");
        assert_eq!(t.revoke(id, B).map(|g| g.pages), Ok(pages(BASE, 1)), "the receiver can");
        assert_eq!(t.revoke(id, A).err(), Some(GrantError::Unknown), "gone");
        let again = t.offer(A, B, pages(BASE * 2, 1), false).expect("room");
        assert_ne!(again, id, "the slot is reused under a new generation");
        assert_eq!(t.acceptable(id, B).err(), Some(GrantError::Unknown), "the old id names nothing");
        assert_eq!(t.revoke(again, A).map(|g| g.pages), Ok(pages(BASE * 2, 1)), "the granter can");
        assert_eq!(t.counts(), (0, 0));
    }

    #[test]
    fn ids_are_words_below_two_to_the_63() {
        let mut t = GrantTable::new(4);
        let id = t.offer(A, B, pages(BASE, 1), false).expect("room");
        assert!(id.to_word() < 1 << 63);
        assert_eq!(GrantId::from_word(id.to_word()), id);
        assert_eq!(t.acceptable(GrantId::from_word(u64::MAX), B).err(), Some(GrantError::Unknown));
        assert_eq!(t.acceptable(GrantId::from_word(id.to_word() + 1), B).err(), Some(GrantError::Unknown));
    }

    #[test]
    fn a_granter_has_a_limit_of_its_own() {
        let mut t = GrantTable::new(2);
        t.offer(A, B, pages(BASE, 1), false).expect("room");
        t.offer(A, B, pages(BASE, 1), false).expect("room");
        assert_eq!(t.offer(A, C, pages(BASE, 1), false).err(), Some(GrantError::TooMany));
        t.offer(B, A, pages(BASE, 1), false).expect("another granter has its own");
    }

    #[test]
    fn offered_pages_are_known_and_a_process_end_takes_its_grants() {
        let mut t = GrantTable::new(8);
        let ab = t.offer(A, B, pages(BASE, 2), false).expect("room");
        let ba = t.offer(B, A, pages(BASE, 1), false).expect("room");
        let bc = t.offer(B, C, pages(BASE * 2, 1), false).expect("room");
        assert!(t.offers(A, &pages(BASE + 4096, 4)));
        assert!(!t.offers(A, &pages(BASE + 2 * 4096, 1)), "past its pages");
        assert!(!t.offers(C, &pages(BASE, 1)), "C offers nothing");
        let mut taken: Vec<GrantId> = t.take_of(A).into_iter().map(|(id, _)| id).collect();
        taken.sort_by_key(|id| id.to_word());
        let mut expected = alloc::vec![ab, ba];
        expected.sort_by_key(|id| id.to_word());
        assert_eq!(taken, expected, "what A made and what it was offered");
        assert_eq!(t.counts(), (1, 0));
        assert!(t.revoke(bc, C).is_ok());
    }
}
