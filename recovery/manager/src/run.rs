//! The manager's private bookkeeping of one server's recovery in progress.
//!
//! What the registry does not show: the plan, the outstanding step, the
//! ledger of the instance being torn down, and the totals of the recovery
//! so far.

use crate::leak::LeakReport;
use crate::plan::Plan;
use crate::report::RestartReason;
use crate::resources::Resources;
use crate::step::Step;
use crate::time::Tick;

/// One server's progress through its plan.
#[derive(Clone, Debug, Default)]
pub(crate) struct Run {
    /// Steps not yet handed out.
    pub plan: Plan,
    /// The step handed out and not yet reported.
    pub outstanding: Option<Step>,
    /// The instance has a state object not yet dropped: `init` finished,
    /// and neither a drop nor a reclaim has disposed of it.
    pub has_state: bool,
    /// An instance exists whose resources were not yet reclaimed.
    pub needs_reclaim: bool,
    /// The latest ledger snapshot of the instance being torn down.
    pub owned: Resources,
    /// Failed recovery attempts since an instance last started serving.
    pub failed_attempts: u32,
    /// The recovery in progress, from its fault to a serving instance.
    pub episode: Option<Episode>,
    /// The latest report waits for the new instance's first request.
    pub awaiting_first_request: bool,
    /// When the server last escalated by restarting its dependents.
    pub last_escalation: Option<Tick>,
}

impl Run {
    /// A server before its first start.
    pub fn first_start() -> Self {
        Run { plan: Plan::first_start(), ..Run::default() }
    }
}

/// A recovery in progress: its totals so far.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Episode {
    pub reason: RestartReason,
    pub began: Tick,
    pub attempts: u32,
    pub released: Resources,
    pub reclaimed: Resources,
    pub leaks: LeakReport,
}

impl Episode {
    pub fn new(reason: RestartReason, began: Tick) -> Self {
        Episode {
            reason,
            began,
            attempts: 0,
            released: Resources::ZERO,
            reclaimed: Resources::ZERO,
            leaks: LeakReport::Clean,
        }
    }
}
