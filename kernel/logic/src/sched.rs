//! The scheduler's state machine: thread states, the round-robin ready queue,
//! sleepers and joiners.
//!
//! This decides *which* thread runs; the kernel's glue does the switching. One
//! thread is the idle thread: it runs only when nothing else is ready, is never
//! queued, and never blocks.
//!
//! # Invariants
//! - exactly one thread is `Running`: [`Scheduler::current`];
//! - a thread other than idle is in the ready queue iff its state is `Ready`
//!   (the idle thread is `Ready` whenever it is not running, but never queued);
//! - the idle thread is never in the ready queue, never blocked, never finished.

use alloc::collections::VecDeque;

use crate::slot_table::SlotTable;

/// A thread's identity; never reused while the kernel runs (see
/// `slot_table`: a slot index and its generation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThreadId(pub u64);

/// What a thread is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Waiting in the ready queue.
    Ready,
    /// On the CPU.
    Running,
    /// Blocked until the tick counter reaches `until`.
    Sleeping {
        /// Tick at which the thread becomes ready again.
        until: u64,
    },
    /// Blocked until `target` finishes.
    Joining {
        /// The thread waited for.
        target: ThreadId,
    },
    /// Blocked until someone wakes it (IPC: waiting for a message or reply;
    /// the kernel keeps the reason).
    Blocked,
    /// Done; waiting to be reaped.
    Finished,
}

/// A decision to move the CPU from one thread to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switch {
    /// The thread leaving the CPU.
    pub from: ThreadId,
    /// The thread taking it.
    pub to: ThreadId,
}

/// A misuse of the scheduler by its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedError {
    /// No such thread.
    Unknown(ThreadId),
    /// The id is already in use.
    Exists(ThreadId),
    /// A thread cannot wait for itself.
    JoinSelf,
    /// Only a finished thread can be removed.
    NotFinished(ThreadId),
    /// The idle thread may not block or exit.
    IdleMayNotBlock,
    /// The thread is not `Blocked`, so it cannot be woken or handed the CPU.
    NotBlocked(ThreadId),
}

/// Result of a join request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Join {
    /// The target has already finished; nothing to wait for.
    Finished,
    /// The caller blocks; switch as given.
    Blocked(Switch),
}

/// The scheduler.
#[derive(Debug)]
pub struct Scheduler {
    states: SlotTable<State>,
    ready: VecDeque<ThreadId>,
    current: ThreadId,
    idle: ThreadId,
    slice_ticks: u32,
    slice_left: u32,
}

impl Scheduler {
    /// A scheduler whose only thread is `idle`, running now. Each thread runs
    /// for at most `slice_ticks` timer ticks before others get a turn.
    pub fn new(idle: ThreadId, slice_ticks: u32) -> Self {
        let mut states = SlotTable::new();
        states.insert(idle, State::Running);
        let slice_ticks = slice_ticks.max(1);
        Self { states, ready: VecDeque::new(), current: idle, idle, slice_ticks, slice_left: slice_ticks }
    }

    /// The running thread.
    pub fn current(&self) -> ThreadId {
        self.current
    }

    /// The idle thread.
    pub fn idle(&self) -> ThreadId {
        self.idle
    }

    /// A thread's state.
    pub fn state(&self, id: ThreadId) -> Option<State> {
        self.states.get(&id).copied()
    }

    /// Number of threads known, the idle thread included.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Always false: the idle thread is always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Every thread and its state, in id order.
    pub fn threads(&self) -> impl Iterator<Item = (ThreadId, State)> + '_ {
        self.states.iter().map(|(id, s)| (*id, *s))
    }

    /// Adds a new thread, ready to run at the back of the queue.
    pub fn add(&mut self, id: ThreadId) -> Result<(), SchedError> {
        if self.states.contains_key(&id) {
            return Err(SchedError::Exists(id));
        }
        self.states.insert(id, State::Ready);
        self.ready.push_back(id);
        Ok(())
    }

    /// One timer tick at time `now`: wakes due sleepers and charges the
    /// running thread. Returns true if the running thread should give way.
    pub fn tick(&mut self, now: u64) -> bool {
        let due: alloc::vec::Vec<ThreadId> = self
            .states
            .iter()
            .filter(|(_, s)| matches!(s, State::Sleeping { until } if *until <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.make_ready(id);
        }
        self.slice_left = self.slice_left.saturating_sub(1);
        !self.ready.is_empty() && (self.current == self.idle || self.slice_left == 0)
    }

    /// The running thread offers the CPU. `None`: nobody else is ready, keep
    /// running (with a fresh time slice).
    pub fn yield_now(&mut self) -> Option<Switch> {
        if self.ready.is_empty() {
            self.slice_left = self.slice_ticks;
            return None;
        }
        let from = self.current;
        self.make_ready(from);
        Some(self.run_next(from))
    }

    /// The running thread sleeps until tick `until`.
    pub fn sleep_until(&mut self, until: u64) -> Result<Switch, SchedError> {
        self.block_as(State::Sleeping { until })
    }

    /// The running thread waits for `target` to finish.
    pub fn join(&mut self, target: ThreadId) -> Result<Join, SchedError> {
        if target == self.current {
            return Err(SchedError::JoinSelf);
        }
        match self.states.get(&target) {
            None => Err(SchedError::Unknown(target)),
            Some(State::Finished) => Ok(Join::Finished),
            Some(_) => self.block_as(State::Joining { target }).map(Join::Blocked),
        }
    }

    /// The running thread is done (returned or was killed); its joiners wake.
    pub fn exit(&mut self) -> Result<Switch, SchedError> {
        let me = self.current;
        let joiners: alloc::vec::Vec<ThreadId> = self
            .states
            .iter()
            .filter(|(_, s)| **s == State::Joining { target: me })
            .map(|(id, _)| *id)
            .collect();
        let switch = self.block_as(State::Finished)?;
        for id in joiners {
            self.make_ready(id);
        }
        // The joiners may be the only ready threads: pick again if idle won.
        Ok(if switch.to == self.idle { self.prefer_ready(switch) } else { switch })
    }

    /// The running thread blocks until [`Scheduler::wake`] or a hand-off.
    pub fn block(&mut self) -> Result<Switch, SchedError> {
        self.block_as(State::Blocked)
    }

    /// Makes a blocked thread ready (at the back of the queue).
    pub fn wake(&mut self, id: ThreadId) -> Result<(), SchedError> {
        match self.states.get(&id) {
            Some(State::Blocked) => {
                self.make_ready(id);
                Ok(())
            }
            Some(_) => Err(SchedError::NotBlocked(id)),
            None => Err(SchedError::Unknown(id)),
        }
    }

    /// Cuts a blocked or sleeping thread's wait short: it becomes ready (at
    /// the back of the queue). For ending a process whose threads wait: the
    /// kernel has already withdrawn the thread from what it waited on.
    /// Returns whether the thread was waiting (a running, ready, joining or
    /// finished thread is left as it is).
    pub fn interrupt(&mut self, id: ThreadId) -> bool {
        match self.states.get(&id) {
            Some(State::Blocked | State::Sleeping { .. }) if id != self.idle => {
                self.make_ready(id);
                true
            }
            _ => false,
        }
    }

    /// The running thread blocks and gives the CPU straight to the blocked
    /// thread `to`, past the ready queue (the IPC fast path). The ready
    /// queue and time slice are left as they are.
    ///
    /// It is on the IPC fast path, so it changes the two states in place
    /// (both threads exist) rather than re-inserting them.
    #[inline(always)]
    pub fn hand_off(&mut self, to: ThreadId) -> Result<Switch, SchedError> {
        let from = self.current;
        if from == self.idle {
            return Err(SchedError::IdleMayNotBlock);
        }
        match self.states.get_mut(&to) {
            Some(s) if *s == State::Blocked => *s = State::Running,
            Some(_) => return Err(SchedError::NotBlocked(to)),
            None => return Err(SchedError::Unknown(to)),
        }
        // The running thread always has a state (it is `Running`).
        if let Some(s) = self.states.get_mut(&from) {
            *s = State::Blocked;
        }
        self.current = to;
        Ok(Switch { from, to })
    }

    /// Forgets a finished thread (after its joiner collected the result).
    pub fn remove(&mut self, id: ThreadId) -> Result<(), SchedError> {
        match self.states.get(&id) {
            None => Err(SchedError::Unknown(id)),
            Some(State::Finished) => {
                self.states.remove(&id);
                Ok(())
            }
            Some(_) => Err(SchedError::NotFinished(id)),
        }
    }

    fn block_as(&mut self, state: State) -> Result<Switch, SchedError> {
        let from = self.current;
        if from == self.idle {
            return Err(SchedError::IdleMayNotBlock);
        }
        self.states.insert(from, state);
        Ok(self.run_next(from))
    }

    fn prefer_ready(&mut self, switch: Switch) -> Switch {
        match self.ready.pop_front() {
            Some(next) => {
                self.states.insert(self.idle, State::Ready);
                self.states.insert(next, State::Running);
                self.current = next;
                Switch { from: switch.from, to: next }
            }
            None => switch,
        }
    }

    fn make_ready(&mut self, id: ThreadId) {
        if id == self.idle {
            return;
        }
        self.states.insert(id, State::Ready);
        self.ready.push_back(id);
    }

    fn run_next(&mut self, from: ThreadId) -> Switch {
        if from == self.idle {
            self.states.insert(from, State::Ready);
        }
        let to = self.ready.pop_front().unwrap_or(self.idle);
        self.states.insert(to, State::Running);
        self.current = to;
        self.slice_left = self.slice_ticks;
        Switch { from, to }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: ThreadId = ThreadId(0);
    const A: ThreadId = ThreadId(1);
    const B: ThreadId = ThreadId(2);
    const C: ThreadId = ThreadId(3);

    fn sched_with(threads: &[ThreadId]) -> Scheduler {
        let mut s = Scheduler::new(IDLE, 2);
        for &t in threads {
            s.add(t).unwrap();
        }
        s
    }

    fn check_invariants(s: &Scheduler) {
        let running: Vec<_> = s.threads().filter(|(_, st)| *st == State::Running).collect();
        assert_eq!(running, [(s.current(), State::Running)]);
        for (id, st) in s.threads().filter(|(id, _)| *id != IDLE) {
            assert_eq!(st == State::Ready, s.ready.contains(&id), "{id:?} {st:?}");
        }
        assert!(!s.ready.contains(&IDLE));
    }

    #[test]
    fn interrupt_cuts_sleeps_and_blocks_short_only() {
        let mut s = sched_with(&[A, B, C]);
        // A runs, then sleeps; B runs, then blocks; C runs.
        assert_eq!(s.yield_now().unwrap().to, A);
        assert_eq!(s.sleep_until(1_000).unwrap().to, B);
        assert_eq!(s.block().unwrap().to, C);
        check_invariants(&s);
        assert!(s.interrupt(A));
        assert!(s.interrupt(B));
        check_invariants(&s);
        assert_eq!(s.state(A), Some(State::Ready));
        assert_eq!(s.state(B), Some(State::Ready));
        // Neither the running thread, a ready one nor idle is touched.
        assert!(!s.interrupt(C));
        assert!(!s.interrupt(A));
        assert!(!s.interrupt(IDLE));
        assert_eq!(s.state(C), Some(State::Running));
        // A was interrupted first, so it runs next.
        assert_eq!(s.yield_now().unwrap().to, A);
        check_invariants(&s);
        // A sleeper cut short is not woken again by its old deadline.
        assert!(!s.tick(1_000) || s.state(A) == Some(State::Running));
        check_invariants(&s);
    }

    #[test]
    fn round_robin_order() {
        let mut s = sched_with(&[A, B, C]);
        let mut order = Vec::new();
        for _ in 0..7 {
            let sw = s.yield_now().unwrap();
            order.push(sw.to);
            check_invariants(&s);
        }
        assert_eq!(order, [A, B, C, A, B, C, A]);
    }

    #[test]
    fn idle_runs_only_when_nothing_is_ready() {
        let mut s = sched_with(&[]);
        assert_eq!(s.yield_now(), None);
        assert!(!s.tick(1), "nothing to preempt for");
        s.add(A).unwrap();
        assert!(s.tick(2), "idle gives way at once");
        assert_eq!(s.yield_now(), Some(Switch { from: IDLE, to: A }));
        assert_eq!(s.exit(), Ok(Switch { from: A, to: IDLE }));
        check_invariants(&s);
        assert_eq!(s.sleep_until(5), Err(SchedError::IdleMayNotBlock));
    }

    #[test]
    fn time_slice_preempts() {
        let mut s = sched_with(&[A, B]);
        s.yield_now().unwrap(); // A runs
        assert!(!s.tick(1));
        assert!(s.tick(2), "slice of two ticks used up");
        assert_eq!(s.yield_now(), Some(Switch { from: A, to: B }));
        assert!(!s.tick(3), "B got a fresh slice");
    }

    #[test]
    fn sleepers_wake_at_their_tick() {
        let mut s = sched_with(&[A, B]);
        s.yield_now().unwrap(); // A
        assert_eq!(s.sleep_until(10), Ok(Switch { from: A, to: B }));
        assert_eq!(s.sleep_until(5), Ok(Switch { from: B, to: IDLE }));
        check_invariants(&s);
        assert!(!s.tick(4));
        assert!(s.tick(5), "B is due");
        assert_eq!(s.yield_now().unwrap().to, B);
        assert_eq!(s.state(A), Some(State::Sleeping { until: 10 }));
        s.tick(10);
        assert_eq!(s.state(A), Some(State::Ready));
        check_invariants(&s);
    }

    #[test]
    fn join_blocks_until_exit_and_then_finishes() {
        let mut s = sched_with(&[A, B]);
        s.yield_now().unwrap(); // A
        assert_eq!(s.join(B), Ok(Join::Blocked(Switch { from: A, to: B })));
        assert_eq!(s.exit(), Ok(Switch { from: B, to: A }), "joiner wakes instead of idle");
        check_invariants(&s);
        assert_eq!(s.join(B), Ok(Join::Finished));
        assert_eq!(s.remove(B), Ok(()));
        assert_eq!(s.join(B), Err(SchedError::Unknown(B)));
        assert_eq!(s.join(A), Err(SchedError::JoinSelf));
    }

    #[test]
    fn block_wake_and_hand_off() {
        let mut s = sched_with(&[A, B, C]);
        s.yield_now().unwrap(); // A runs; B, C ready
        assert_eq!(s.block(), Ok(Switch { from: A, to: B }));
        assert_eq!(s.state(A), Some(State::Blocked));
        assert_eq!(s.wake(C), Err(SchedError::NotBlocked(C)));
        // B hands the CPU straight to blocked A; C keeps its place in line.
        assert_eq!(s.hand_off(A), Ok(Switch { from: B, to: A }));
        check_invariants(&s);
        assert_eq!(s.state(B), Some(State::Blocked));
        assert_eq!(s.hand_off(C), Err(SchedError::NotBlocked(C)));
        assert_eq!(s.wake(B), Ok(()));
        assert_eq!(s.yield_now().unwrap().to, C, "C was first in line");
        assert_eq!(s.yield_now().unwrap().to, B, "then the woken B");
        assert_eq!(s.yield_now().unwrap().to, A);
        check_invariants(&s);
        assert_eq!(s.wake(ThreadId(99)), Err(SchedError::Unknown(ThreadId(99))));
    }

    #[test]
    fn remove_refuses_live_threads_and_add_refuses_duplicates() {
        let mut s = sched_with(&[A]);
        assert_eq!(s.remove(A), Err(SchedError::NotFinished(A)));
        assert_eq!(s.add(A), Err(SchedError::Exists(A)));
    }

    #[test]
    fn many_random_operations_keep_invariants() {
        // A small deterministic pseudo-random walk over the operations.
        let mut s = Scheduler::new(IDLE, 3);
        let mut next_id = 1;
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for now in 0..5000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match x % 6 {
                0 if s.len() < 20 => {
                    s.add(ThreadId(next_id)).unwrap();
                    next_id += 1;
                }
                1 => {
                    s.yield_now();
                }
                2 if s.current() != IDLE => {
                    s.sleep_until(now + x % 7).unwrap();
                }
                3 if s.current() != IDLE => {
                    s.exit().unwrap();
                }
                4 if x % 3 == 0 && s.current() != IDLE => {
                    let blocked: Vec<_> =
                        s.threads().filter(|(_, st)| *st == State::Blocked).map(|(id, _)| id).collect();
                    match blocked.first() {
                        Some(&b) if x % 2 == 0 => {
                            s.hand_off(b).unwrap();
                        }
                        Some(&b) => s.wake(b).unwrap(),
                        None => {
                            s.block().unwrap();
                        }
                    }
                }
                4 => {
                    let finished: Vec<_> =
                        s.threads().filter(|(_, st)| *st == State::Finished).map(|(id, _)| id).collect();
                    for id in finished {
                        s.remove(id).unwrap();
                    }
                }
                _ => {
                    if s.tick(now) {
                        s.yield_now();
                    }
                }
            }
            check_invariants(&s);
        }
    }
}
