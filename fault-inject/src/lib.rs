//! Fault models and the deterministic fault plan: what to inject where, derived from (campaign seed, trial id).
//!
//! A fault-injection campaign runs thousands of independent trials; each
//! injects one fault into one server while a workload runs. This crate says
//! *which* fault: the [`Model`] (how the fault is made), the [`Target`]
//! server, the [`Trigger`] (when it fires) and the [`Location`] (where, in
//! the model's own terms). [`plan`] derives all four from the campaign's
//! [`Seed`] and the [`TrialId`]; the host passes the result to the guest as
//! a boot command-line fragment ([`CmdlineFragment`]), which the guest's
//! injector parses with the same code.
//!
//! Design principles:
//! - one source of truth for both sides: the host plans and prints, the
//!   guest parses, and every spelling round-trips (host tests prove it);
//! - determinism without history: trial `i`'s fault depends only on
//!   `(seed, i)` and the model and target lists, never on trials before it,
//!   so shards, resumed runs and replays of one trial all see the same fault;
//! - pure, `no_std`, no allocation and no `unsafe`: it runs in the guest as
//!   it is, and `cargo test` checks it on the host in milliseconds;
//! - invariants on types: a [`Target`] is always a valid server name, an
//!   [`Injection`]'s location always fits its model, a [`Shard`] always has
//!   `1 <= k <= n`; what the plan draws stays inside documented bounds.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod bit;
mod cmdline;
mod config;
mod error;
mod injection;
mod location;
mod model;
mod plan;
mod prng;
mod seed;
mod shard;
mod target;
mod trial_id;
mod trigger;

#[cfg(feature = "serde")]
mod serde_impls;

pub use bit::{Bit, ByteBit, RegisterBit};
pub use cmdline::{CmdlineFragment, INJECT_KEY, RECOVERY_KEY, TRIAL_KEY};
pub use config::Config;
pub use error::ParseError;
pub use injection::{Injection, LocationMismatch};
pub use location::{CfiKind, Location, PointerKind, Region, Register, SITE_SPACE};
pub use model::Model;
pub use plan::{plan, PlanError, TrialSpec};
pub use prng::SplitMix64;
pub use seed::Seed;
pub use shard::{Shard, ShardError};
pub use target::{Target, TargetError, TARGET_NAME_MAX_BYTES};
pub use trial_id::TrialId;
pub use trigger::{Trigger, TRIGGER_OPS_MAX, TRIGGER_TICKS_MAX};
