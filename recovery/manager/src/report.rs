//! Recovery reports: one per restart that reached a serving instance.
//!
//! Made when the new instance starts serving, after the leak checks of
//! every instance the recovery finished; completed with the latency when
//! the new instance serves its first request. The campaign's
//! `recovered server=… latency_ns=… released_by_unwinding=…
//! reclaimed_by_backstop=… leaks=…` line prints one.

use crate::fault::FaultCause;
use crate::generation::Generation;
use crate::leak::LeakReport;
use crate::resources::Resources;
use crate::server_id::ServerId;
use crate::time::{Tick, Ticks};

/// Why a server was restarted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RestartReason {
    /// It faulted (the first fault of the recovery; later faults of
    /// failed attempts are counted in [`RecoveryReport::attempts`]).
    Fault(FaultCause),
    /// A server it depends on escalated by restarting its dependents.
    Dependency(ServerId),
}

/// The account of one recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The server recovered.
    pub server: ServerId,
    /// The generation now serving.
    pub generation: Generation,
    /// Why it was restarted.
    pub reason: RestartReason,
    /// When the recovery began: the fault, or the escalation.
    pub began: Tick,
    /// Instances started before one served: 1 when the first restart
    /// worked, more when a step of an attempt faulted.
    pub attempts: u32,
    /// Released by Rust drops: unwound frames and dropped state objects.
    pub released_by_unwinding: Resources,
    /// Reclaimed by the backstop.
    pub reclaimed_by_backstop: Resources,
    /// What the finished instances still owned after the backstop.
    pub leaks: LeakReport,
    /// What the new instance owned when it started serving.
    pub baseline: Resources,
    /// How much more than the previous instance's baseline the new one
    /// owns, kind by kind. Not a leak by itself (restored state may need
    /// more), but a recovery that keeps growing it deserves a look.
    pub baseline_growth: Resources,
    /// From [`RecoveryReport::began`] to the first request the new
    /// instance served; `None` until then.
    pub latency: Option<Ticks>,
}
