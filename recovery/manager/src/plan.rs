//! Plans: the steps still ahead of a server, and the gate before its new instance.
//!
//! A plan is what the manager still intends for one server. The embedder
//! sees it through [`crate::Manager::plan`] (for logs and the shell); the
//! manager hands its steps out one at a time.

use alloc::collections::VecDeque;

use crate::generation::Generation;
use crate::step::Step;
use crate::time::Tick;

/// The steps the manager will still ask of a server, in order, not
/// counting the one outstanding.
///
/// A plan that starts an instance has a *gate* before the step that
/// begins it ([`Step::begins_instance`]): that step is handed out only
/// once the time is at least [`Plan::not_before`] and every dependency of
/// the server is serving. Tearing the old instance down never waits.
///
/// # Invariants
/// A plan is one of the three shapes its constructors make; the gate, if
/// any, sits before the only step that begins an instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    steps: VecDeque<Step>,
    not_before: Option<Tick>,
}

impl Plan {
    /// A server's first start: `init`, restore, serve.
    pub(crate) fn first_start() -> Self {
        Plan { steps: [Step::Init, Step::RestoreKeptState, Step::Serve].into(), not_before: Some(Tick::ZERO) }
    }

    /// A restart: tear the old instance down (stop it, drop its state,
    /// reclaim, as asked), then start generation `to` no earlier than
    /// `not_before`.
    pub(crate) fn restart(teardown: Teardown, to: Generation, not_before: Tick) -> Self {
        let mut steps = teardown.steps();
        steps.extend([Step::BumpGeneration { to }, Step::Init, Step::RestoreKeptState, Step::Serve]);
        Plan { steps, not_before: Some(not_before) }
    }

    /// A death: tear down as asked, then retire the server.
    pub(crate) fn death(teardown: Teardown) -> Self {
        let mut steps = teardown.steps();
        steps.push_back(Step::Retire);
        Plan { steps, not_before: None }
    }

    /// The steps ahead, in order.
    pub fn steps(&self) -> impl Iterator<Item = Step> + '_ {
        self.steps.iter().copied()
    }

    /// The next step.
    pub fn next_step(&self) -> Option<Step> {
        self.steps.front().copied()
    }

    /// Whether no step is ahead.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The earliest tick at which the new instance may begin; `None` once
    /// the gate is passed, or for a plan that starts nothing.
    pub const fn not_before(&self) -> Option<Tick> {
        self.not_before
    }

    /// Whether the next step waits at the gate.
    pub(crate) fn at_gate(&self) -> bool {
        self.not_before.is_some() && self.next_step().is_some_and(Step::begins_instance)
    }

    /// Passes the gate.
    pub(crate) fn open_gate(&mut self) {
        self.not_before = None;
    }

    /// Takes the next step.
    pub(crate) fn pop(&mut self) -> Option<Step> {
        self.steps.pop_front()
    }
}

/// Which teardown steps a plan starts with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Teardown {
    /// A healthy instance must be stopped first.
    pub stop: bool,
    /// The instance's state object must be dropped.
    pub drop_state: bool,
    /// The instance's resources must be reclaimed.
    pub reclaim: bool,
}

impl Teardown {
    fn steps(self) -> VecDeque<Step> {
        [(self.stop, Step::Stop), (self.drop_state, Step::DropState), (self.reclaim, Step::Reclaim)]
            .into_iter()
            .filter_map(|(wanted, step)| wanted.then_some(step))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_restart_is_the_sequence_of_the_design() {
        let teardown = Teardown { stop: false, drop_state: true, reclaim: true };
        let to = Generation::FIRST.next().unwrap();
        let plan = Plan::restart(teardown, to, Tick::new(5));
        let steps: Vec<Step> = plan.steps().collect();
        assert_eq!(
            steps,
            [
                Step::DropState,
                Step::Reclaim,
                Step::BumpGeneration { to },
                Step::Init,
                Step::RestoreKeptState,
                Step::Serve
            ]
        );
        assert_eq!(plan.not_before(), Some(Tick::new(5)));
        assert!(!plan.at_gate(), "teardown never waits");
    }

    #[test]
    fn a_death_ends_in_retire_and_has_no_gate() {
        let plan = Plan::death(Teardown::default());
        assert_eq!(plan.steps().collect::<Vec<_>>(), [Step::Retire]);
        assert_eq!(plan.not_before(), None);
    }

    #[test]
    fn the_first_start_waits_at_its_gate() {
        let mut plan = Plan::first_start();
        assert!(plan.at_gate());
        plan.open_gate();
        assert!(!plan.at_gate());
        assert_eq!(plan.pop(), Some(Step::Init));
    }
}
