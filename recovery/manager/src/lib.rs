//! Recovery manager policy: which faulted server to restart, when, in what order, and whether its recovery leaked.
//!
//! The recovery manager runs in the trusted address space (TAS) and
//! supervises the servers there. When a server faults, the kernel delivers
//! the fault, the unwinder unwinds the faulting thread, and then the
//! manager decides: restart the server now, restart it after a back-off,
//! or escalate (mark it dead, or restart the servers that depend on it
//! too). This crate is that decision logic, and the bookkeeping around it:
//! the [`Registry`] of servers with their states, [`Generation`]s,
//! [`RestartPolicy`]s, dependencies and fault histories; the restart
//! sequence as steps the embedder carries out ([`Manager`], [`Step`]);
//! the accounting of what each recovery released, reclaimed and leaked
//! ([`Accounting`], [`LeakReport`]); and recovery latency
//! ([`LatencyStats`]).
//!
//! Design principles:
//! - **policy, not mechanism**: the manager never touches a server, a
//!   heap or a handle. It hands out [`Action`]s and the embedder reports
//!   each step's [`StepOutcome`]; the same code runs in the TAS and in
//!   host tests, pure, `no_std`, without `unsafe`;
//! - **never waits on what it supervises**: no call blocks. A back-off is
//!   a tick in a [`Plan`], picked up by [`Manager::poll`]; a step is a
//!   request the embedder answers when it can;
//! - **every failure is a fault, and every fault is bounded**: a step of
//!   the restart sequence that faults (an `init` that panics) is recorded
//!   and judged by the policy like any fault, and a run of failed attempts
//!   ends in a dead server, never in a loop;
//! - **invariants on types**: a [`Generation`] only grows and is never
//!   reused; a dead server stays dead; a [`Backoff`] or [`Limit`] that
//!   cannot work does not construct; a ledger that grows during a release
//!   is refused, not clamped;
//! - **nothing hidden**: leaks are reported by kind and amount; what Rust
//!   drops released and what the backstop had to reclaim are counted
//!   apart, so a campaign shows what unwinding itself achieved;
//! - **time is an input**: every event carries `now` in timer ticks, so a
//!   decision depends only on what the manager was told.
//!
//! # The restart sequence
//!
//! Each server follows a [`Plan`]: teardown steps that never wait, a gate,
//! then the steps that start a new instance. The embedder runs one step
//! per server at a time and reports it.
//!
//! ```text
//!  fault (unwinding done)          Manager::on_fault(id, fault, now)
//!     │  record in history; ask the policy
//!     ├── restart now / at tick T ───────────────────────────────────────┐
//!     ├── escalate: mark dead ──▶ Dead at once; then [DropState] [Reclaim] Retire
//!     ├── config `none` ────────▶ Dead at once; then Retire
//!     └── escalate: restart dependents ─▶ this server as below, now, and each
//!                                         serving dependent: Stop, then as below
//!                                                                         │
//!  teardown (at once)  DropState ─▶ Reclaim (backstop; leak check)  ◀────┘
//!                                      │
//!  gate                tick ≥ T, and every dependency serving
//!                      (a dependency dead: this server dies too)
//!                                      │
//!  new instance        BumpGeneration ─▶ Init ─▶ RestoreKeptState ─▶ Serve ─▶ Serving
//!                                      │                            (baseline; report)
//!  any step faults ────────────────────┴─▶ a fault: recorded, policy applies, a
//!                                          new plan replaces the rest; after
//!                                          `max_failed_attempts` in a row ─▶ Dead
//! ```
//!
//! The first start is the gate and the new-instance steps without
//! `BumpGeneration` (the first instance has [`Generation::FIRST`]).
//!
//! # Configurations
//!
//! | [`RecoveryConfig`] | on a fault |
//! |---|---|
//! | `unwind` | the full sequence: the state object is dropped, the backstop reclaims the rest |
//! | `restart` | MINIX 3's kill and restart: no `DropState` (and `Stop` kills), so nothing is released by a drop and the backstop reclaims everything |
//! | `none` | the server is marked dead and retired, nothing reclaimed |
//!
//! # Accounting
//!
//! The embedder keeps a ledger per instance ([`Resources`]: frames, heap
//! bytes, handles, locks, grants, pending IPC) and reports snapshots of
//! it: before and after unwinding (in the [`Fault`]), after `DropState`,
//! after `Reclaim`, and at `Serve` (the new instance's baseline). The
//! manager derives what each step released, refuses a ledger that grew,
//! and after every `Reclaim` checks that the finished instance owns
//! nothing: anything left is a leak ([`LeakReport`]).

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod accounting;
mod backoff;
mod config;
mod error;
mod fault;
mod generation;
mod history;
mod latency;
mod leak;
mod limit;
mod manager;
mod plan;
mod policy;
mod progress;
mod reaction;
mod registry;
mod report;
mod resources;
mod run;
mod server_id;
mod server_name;
mod spec;
mod state;
mod step;
mod time;
mod topology;

pub use accounting::{Accounting, ResourceCounters};
pub use backoff::{Backoff, BackoffError, DEFAULT_RESET_AFTER_MAX_MULTIPLE};
pub use config::{RecoveryConfig, UnknownConfig};
pub use error::{CallError, CyclePath, EventError, RegistryError};
pub use fault::{ExceptionVector, Fault, FaultCause, NotAnException, EXCEPTION_VECTORS};
pub use generation::{Generation, GenerationError};
pub use history::{FaultHistory, FAULT_HISTORY_CAPACITY};
pub use latency::{LatencyStats, PER_MILLE};
pub use leak::LeakReport;
pub use limit::{Escalation, Limit, LimitError};
pub use manager::Manager;
pub use plan::Plan;
pub use policy::{Decision, Pacing, RestartPolicy, DEFAULT_MAX_FAILED_ATTEMPTS};
pub use registry::{Registry, Server};
pub use report::{RecoveryReport, RestartReason};
pub use resources::{AccountingError, Released, ResourceKind, Resources};
pub use server_id::ServerId;
pub use server_name::{NameError, ServerName, SERVER_NAME_MAX_BYTES};
pub use spec::ServerSpec;
pub use state::{DeadReason, ServerState};
pub use step::{Action, ExpectedOutcome, Step, StepOutcome};
pub use time::{Tick, Ticks, TimeWentBackwards};
