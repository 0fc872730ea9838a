//! The recovery manager at work: the `recovery-manager` crate decides, this
//! file carries out its steps on the server slots and reports them (on the
//! console, in the recovery log, and as campaign protocol lines).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use fault_inject::Config;
use lazarus_rt::{println, sys};
use recovery_manager::{
    Action, Escalation, Fault, Limit, Manager, RecoveryConfig, RecoveryReport, Registry, Released, Resources,
    RestartPolicy, ServerId as ManagerId, ServerName, ServerSpec, Step, StepOutcome, Tick, Ticks,
};
use server_api::InitNote;
use tas_runtime::heap;

use crate::injector::Injector;
use crate::instance::{owned_bytes, Slot};
use crate::locks;
use crate::proxy::{Faulted, InitEnv};

/// Restarts allowed in [`RESTART_WINDOW_US`] before the server is marked
/// dead: a server that faults this often is not recovering.
const MAX_RESTARTS: u32 = 30;
/// The window of [`MAX_RESTARTS`]: one second, in microseconds (the
/// manager's ticks here).
const RESTART_WINDOW_US: u64 = 1_000_000;
/// Lines of recovery log kept (older ones are dropped).
const LOG_LINES: usize = 64;

/// The manager's ticks: microseconds since boot.
pub fn now() -> Tick {
    Tick::new(sys::uptime_ns() / 1000)
}

fn heap_bytes(amount: u64) -> Resources {
    Resources { heap_bytes: amount, ..Resources::ZERO }
}

/// What the instance in slot `index` owns now: heap bytes and shared locks.
fn owned(slot: &Slot, index: usize) -> Resources {
    Resources { heap_bytes: owned_bytes(slot), locks: locks::held_by(index), ..Resources::ZERO }
}

/// The recovery manager with the servers' slots.
pub struct Supervisor {
    /// The servers, in registry order.
    pub slots: Vec<Slot>,
    /// The policy.
    pub manager: Manager,
    /// Recovery events, newest last.
    pub log: Vec<String>,
    /// Print campaign protocol lines.
    pub campaign: bool,
    config: Config,
}

fn recovery_config(config: Config) -> RecoveryConfig {
    match config {
        Config::Unwind => RecoveryConfig::Unwind,
        Config::Restart => RecoveryConfig::Restart,
        Config::NoRecovery => RecoveryConfig::NoRecovery,
    }
}

impl Supervisor {
    /// A supervisor for `slots` (not started yet: see [`Supervisor::start`]).
    pub fn new(slots: Vec<Slot>, config: Config, campaign: bool) -> Result<Self, String> {
        let limit = Limit::try_new(MAX_RESTARTS, Ticks::new(RESTART_WINDOW_US), Escalation::MarkDead)
            .map_err(|e| format!("{e}"))?;
        let policy = RestartPolicy::immediate().limited(limit);
        let specs = slots
            .iter()
            .map(|s| ServerName::try_new(s.id.name()).map(|n| ServerSpec::new(n, policy)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{e}"))?;
        let registry = Registry::try_new(specs).map_err(|e| format!("{e}"))?;
        Ok(Supervisor { slots, manager: Manager::new(registry, recovery_config(config)), log: Vec::new(), campaign, config })
    }

    /// Adds a line to the recovery log and prints it.
    pub fn note(&mut self, line: String) {
        println!("recovery: {line}");
        if self.log.len() == LOG_LINES {
            self.log.remove(0);
        }
        self.log.push(line);
    }

    /// Starts every server (the manager's first-start steps).
    pub fn start(&mut self, injector: &mut Injector) {
        match self.manager.poll(now()) {
            Ok(actions) => self.carry_out(actions, injector),
            Err(e) => println!("tas: the recovery manager refused to start: {e}"),
        }
    }

    /// Lets back-offs that are due proceed.
    pub fn poll(&mut self, injector: &mut Injector) {
        if self.manager.next_wakeup().is_some_and(|t| t <= now()) {
            if let Ok(actions) = self.manager.poll(now()) {
                self.carry_out(actions, injector);
            }
        }
    }

    /// Reports a fault of slot `index` and carries out the recovery.
    pub fn on_fault(&mut self, index: usize, faulted: Faulted, injector: &mut Injector) {
        let slot = &mut self.slots[index];
        slot.exchange_owned = faulted.exchange_owned;
        let (name, generation) = (slot.id.name(), slot.generation);
        let at = Resources {
            heap_bytes: faulted.at_fault as u64,
            locks: faulted.locks_held + faulted.locks_unwound,
            ..Resources::ZERO
        };
        let after = Resources {
            heap_bytes: owned_bytes(slot).min(faulted.at_fault as u64),
            locks: faulted.locks_held,
            ..Resources::ZERO
        };
        let released = if self.config == Config::Unwind { Released::try_new(at, after) } else { Released::try_new(at, at) };
        let released = released.unwrap_or(Released::NOTHING);
        if self.campaign {
            println!("campaign: detected kind={} server={name} generation={generation}", faulted.cause.kind());
        }
        self.note(format!("{name} generation {generation}: {} detected", faulted.cause));
        match self.manager.on_fault(ManagerId::new(index as u16), Fault::new(faulted.cause, released), now()) {
            Ok(actions) => self.carry_out(actions, injector),
            Err(e) => self.note(format!("{name}: the manager refused the fault: {e}")),
        }
    }

    /// Notes that slot `index` served a request: the end of a recovery.
    pub fn on_served(&mut self, index: usize) {
        if let Ok(Some(report)) = self.manager.on_first_request(ManagerId::new(index as u16), now()) {
            self.report(&report);
        }
    }

    fn report(&mut self, report: &RecoveryReport) {
        let name = self.slots[report.server.index()].id.name();
        let latency_us = report.latency.map_or(0, Ticks::get);
        let (released, reclaimed, leaked) =
            (report.released_by_unwinding.heap_bytes, report.reclaimed_by_backstop.heap_bytes, report.leaks.amount().heap_bytes);
        let (locks_released, locks_reclaimed, locks_leaked) =
            (report.released_by_unwinding.locks, report.reclaimed_by_backstop.locks, report.leaks.amount().locks);
        let locks = if locks_released + locks_reclaimed + locks_leaked > 0 {
            format!("; locks: {locks_released} released by unwinding, {locks_reclaimed} reclaimed by the backstop, {locks_leaked} leaked")
        } else {
            String::new()
        };
        if self.campaign {
            println!(
                "campaign: recovered server={name} latency_ns={} released_by_unwinding={released} reclaimed_by_backstop={reclaimed} leaks={leaked}",
                latency_us * 1000
            );
        }
        self.note(format!(
            "{name} recovered as generation {} in {latency_us} us: {released} heap bytes released by unwinding, {reclaimed} reclaimed by the backstop, {leaked} leaked{locks}",
            report.generation.get()
        ));
    }

    fn carry_out(&mut self, mut actions: Vec<Action>, injector: &mut Injector) {
        while let Some(action) = (!actions.is_empty()).then(|| actions.remove(0)) {
            let outcome = self.step(action, injector);
            match self.manager.step_done(action.server, action.step, outcome, now()) {
                Ok(more) => actions.extend(more),
                Err(e) => {
                    let name = self.slots[action.server.index()].id.name();
                    self.note(format!("{name}: the manager refused step {:?}: {e}", action.step));
                }
            }
        }
    }

    fn step(&mut self, action: Action, injector: &mut Injector) -> StepOutcome {
        let index = action.server.index();
        let slot = &mut self.slots[index];
        match action.step {
            Step::Stop | Step::DropState => {
                let before = owned(slot, index);
                let state = slot.state.take();
                if self.config == Config::Unwind {
                    let _entered = heap::enter(slot.heap);
                    drop(state);
                } else {
                    slot.abandoned = state;
                }
                let after = owned(slot, index);
                if action.step == Step::Stop {
                    StepOutcome::Stopped(Released::try_new(before, after).unwrap_or(Released::NOTHING))
                } else {
                    StepOutcome::Owns(after)
                }
            }
            Step::Reclaim => {
                // The backstop: a discarded instance's state is forgotten
                // (its heap goes), never dropped.
                slot.forget_instances();
                heap::reset(slot.heap);
                locks::reclaim(index);
                let left = slot.exchange_owned as u64;
                slot.exchange_owned = 0;
                StepOutcome::Owns(heap_bytes(left))
            }
            Step::BumpGeneration { to } => {
                slot.generation = to.get();
                StepOutcome::Done
            }
            Step::Init => {
                let (id, sites, heap_id, init, code) = (slot.id, slot.sites, slot.heap, slot.init, slot.code);
                let generation = slot.generation;
                // A first start runs freshly loaded code.
                let repaired = if generation > 1 { repair_code() } else { String::new() };
                let mut env =
                    InitEnv { server: id, index, generation, sites, heap: heap_id, kept: &mut slot.kept, code, injector };
                let started = {
                    let _entered = heap::enter(heap_id);
                    unwind::catch(|| init(&mut env))
                };
                match started {
                    Ok((state, note)) => {
                        slot.state = Some(state);
                        slot.store.count(note);
                        let generation = slot.generation;
                        let what = match note {
                            InitNote::NothingKept => String::from("keeps nothing"),
                            InitNote::Formatted => String::from("formatted its store"),
                            InitNote::Restored { corrected } => format!("restored its kept state ({corrected} bit errors corrected)"),
                            InitNote::DamagedFormatted => String::from("found its kept state damaged beyond repair: clean start"),
                        };
                        self.note(format!("{} generation {generation} started: {what}{repaired}", id.name()));
                        StepOutcome::Done
                    }
                    Err(fault) => {
                        heap::reset(heap_id);
                        let cause = crate::proxy::cause_of(&fault.kind);
                        self.note(format!("{} init faulted: {}", id.name(), fault.summary()));
                        StepOutcome::Failed(Fault::new(cause, Released::NOTHING))
                    }
                }
            }
            // `init` restores what the server keeps (it reads its region).
            Step::RestoreKeptState => StepOutcome::Done,
            Step::Serve => StepOutcome::Owns(owned(slot, index)),
            Step::Retire => {
                slot.forget_instances();
                let name = slot.id.name();
                self.note(format!("{name} is dead: calls to it fail from now on"));
                StepOutcome::Done
            }
        }
    }
}

/// Writes the image's bytes back over any code of the TAS that changed
/// before a server starts again: a bit flipped in its text would survive
/// the restart otherwise, and the new instance would fault where the old
/// one did. A note for the log if anything was restored, or if the kernel
/// refused.
fn repair_code() -> String {
    match lazarus_rt::sys::repair_code() {
        Ok(0) => String::new(),
        Ok(1) => String::from("; 1 code byte restored from the image"),
        Ok(n) => format!("; {n} code bytes restored from the image"),
        Err(e) => format!("; its code could not be checked: {e}"),
    }
}
