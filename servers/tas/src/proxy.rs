//! The proxy in front of every server: a recovery boundary around each
//! request, which turns a fault of the server into a typed error for the
//! caller and a fault report for the recovery manager.
//!
//! On the way in it moves the request into an envelope in the exchange
//! heap (owned by the server's frames while it serves), makes the server's
//! private heap current and tells the kernel which server is at work (for
//! the watchdog). On the way out, normally or after a fault, it undoes all
//! three. Under `unwind` a fault unwinds the server's frames (every `Drop`
//! runs, the envelope included); under `restart` and `none` the frames are
//! discarded, as a kill would, and whatever they owned stays owned.

use alloc::boxed::Box;

use lazarus_abi::syscall::WATCHDOG_VECTOR;
use recovery_manager::{ExceptionVector, FaultCause};
use server_api::{CallError, Env, LockId, Payload, Request, ServerId, Status};
use tas_runtime::heap::{self, HeapId, EXCHANGE};
use tas_runtime::{discard, supervision};
use unwind::fault::{Fault, FaultKind};

use crate::dispatch::System;
use crate::injector::Regions;
use crate::instance::Instance;
use crate::locks::{self, Owner};

/// A fault of the server during a request, measured.
pub struct Faulted {
    /// How it was detected.
    pub cause: FaultCause,
    /// Exchange-heap bytes the faulted frames still own afterwards.
    pub exchange_owned: usize,
    /// Heap bytes (private, plus exchange owned) when the fault was raised.
    pub at_fault: usize,
    /// Shared locks the faulted instance still holds.
    pub locks_held: u64,
    /// Shared locks its frames released while they unwound.
    pub locks_unwound: u64,
}

/// The environment a server sees while it serves.
pub struct SiteEnv<'a> {
    /// The server.
    pub server: ServerId,
    /// Its slot's index.
    pub index: usize,
    /// The serving instance's generation.
    pub generation: u32,
    /// Its number of sites.
    pub sites: u32,
    /// Its private heap.
    pub heap: HeapId,
    /// Its state object's place in its heap (offset, size), for `memflip`.
    pub state_at: Option<(u32, u32)>,
    /// Its kept-state region.
    pub kept: &'a mut [u64],
    /// The buffer the calling server lent with the request (a user
    /// program's request over IPC lends none).
    pub lent: Option<&'a mut [u8]>,
    /// The rest of the TAS: the injector, and the other servers to call.
    pub tas: &'a mut System,
}

impl Env for SiteEnv<'_> {
    fn site(&mut self, site: u32) {
        let code = self.tas.supervisor.slots[self.index].code;
        let regions = Regions { heap: self.heap, state_at: self.state_at, kept: self.kept, code };
        self.tas.injector.at_site(self.server, site, self.sites, regions);
    }

    fn kept(&mut self) -> &mut [u64] {
        self.kept
    }

    fn console_write(&mut self, bytes: &[u8]) {
        // The console's output device is the kernel console.
        let _ = lazarus_rt::sys::debug_write(bytes);
    }

    fn cycles(&self) -> u64 {
        lazarus_rt::sys::cycles()
    }

    fn call(&mut self, request: &Request) -> Result<Payload, CallError> {
        self.call_lending(request, None)
    }

    fn call_with(&mut self, request: &Request, buffer: &mut [u8]) -> Result<Payload, CallError> {
        self.call_lending(request, Some(buffer))
    }

    fn lent(&mut self) -> Option<&mut [u8]> {
        self.lent.as_deref_mut()
    }

    fn locked(&mut self, lock: LockId, body: &mut dyn FnMut(&mut dyn Env)) -> Result<(), Status> {
        let owner = Owner { slot: self.index, generation: self.generation };
        hold(lock, owner, self, body)
    }
}

impl SiteEnv<'_> {
    /// Calls another server through its proxy, lending it `lent`: the
    /// callee's `SiteEnv` holds the same bytes, borrowed for the call.
    fn call_lending(&mut self, request: &Request, lent: Option<&mut [u8]>) -> Result<Payload, CallError> {
        let Some(index) = self.tas.index_of(request.server) else { return Err(CallError::Refused(Status::BadRequest)) };
        // The callee's proxy, and its recovery if it faults, run as at the
        // top level: in the exchange heap, not in the caller's.
        let reply = {
            let _exchange = heap::enter(EXCHANGE);
            self.tas.call(index, *request, lent)
        };
        match reply.status {
            Status::Ok => Ok(reply.payload),
            Status::ServerFault => {
                Err(CallError::ServerFault { server: request.server, generation: reply.generation as u32 })
            }
            status => Err(CallError::Refused(status)),
        }
    }
}

/// The environment of a server's `init`: its sites, kept region, console
/// and locks, but no calls to other servers (they may be starting too),
/// and so no buffer lent.
pub struct InitEnv<'a> {
    /// The server.
    pub server: ServerId,
    /// Its slot's index.
    pub index: usize,
    /// The generation being started.
    pub generation: u32,
    /// Its number of sites.
    pub sites: u32,
    /// Its private heap.
    pub heap: HeapId,
    /// Its kept-state region.
    pub kept: &'a mut [u64],
    /// Its request handler's address, for `memflip` into text.
    pub code: u64,
    /// The injector.
    pub injector: &'a mut crate::injector::Injector,
}

impl Env for InitEnv<'_> {
    fn site(&mut self, site: u32) {
        let regions = Regions { heap: self.heap, state_at: None, kept: self.kept, code: self.code };
        self.injector.at_site(self.server, site, self.sites, regions);
    }

    fn kept(&mut self) -> &mut [u64] {
        self.kept
    }

    fn console_write(&mut self, bytes: &[u8]) {
        let _ = lazarus_rt::sys::debug_write(bytes);
    }

    fn cycles(&self) -> u64 {
        lazarus_rt::sys::cycles()
    }

    fn call(&mut self, _request: &Request) -> Result<Payload, CallError> {
        Err(CallError::Refused(Status::Busy))
    }

    fn call_with(&mut self, _request: &Request, _buffer: &mut [u8]) -> Result<Payload, CallError> {
        Err(CallError::Refused(Status::Busy))
    }

    fn lent(&mut self) -> Option<&mut [u8]> {
        None
    }

    fn locked(&mut self, lock: LockId, body: &mut dyn FnMut(&mut dyn Env)) -> Result<(), Status> {
        let owner = Owner { slot: self.index, generation: self.generation };
        hold(lock, owner, self, body)
    }
}

/// Runs `body` holding `lock` for `owner`: released when it returns, by
/// the guard's drop if it unwinds, by the backstop if it is discarded.
fn hold(lock: LockId, owner: Owner, env: &mut dyn Env, body: &mut dyn FnMut(&mut dyn Env)) -> Result<(), Status> {
    let guard = locks::acquire(lock, owner)?;
    body(env);
    guard.release();
    Ok(())
}

/// Where `value` lies in `heap`: its offset from the region's start and its
/// size, if it is in the region.
pub fn place_in_heap(heap: HeapId, value: &dyn Instance) -> Option<(u32, u32)> {
    let (start, size) = heap::region(heap);
    let addr = (value as *const dyn Instance).cast::<u8>() as u64;
    let len = core::mem::size_of_val(value) as u64;
    (addr >= start && addr + len <= start + size).then(|| ((addr - start) as u32, len as u32))
}

/// Why the unwinder raised `kind`.
pub fn cause_of(kind: &FaultKind) -> FaultCause {
    match kind {
        FaultKind::Panic { .. } => FaultCause::Panic,
        FaultKind::Cfi(_) => FaultCause::Cfi,
        FaultKind::Exception(info) if info.vector == WATCHDOG_VECTOR => FaultCause::Watchdog,
        FaultKind::Exception(info) => {
            ExceptionVector::try_new(info.vector).map_or(FaultCause::Panic, FaultCause::Exception)
        }
    }
}

/// Prints a fault the server's frames were unwound from; its cause.
fn report_unwound(name: &str, fault: &Fault) -> FaultCause {
    match fault.kind {
        FaultKind::Exception(e) if e.vector == WATCHDOG_VECTOR => lazarus_rt::println!(
            "tas: {name} stopped answering: the watchdog fired after {} ms in the server (at {:#x})\n{}",
            tas_runtime::supervision::WATCHDOG_MS,
            e.frame.rip,
            fault.backtrace
        ),
        _ => lazarus_rt::println!("tas: {name} faulted: {}\n{}", fault.summary(), fault.backtrace),
    }
    cause_of(&fault.kind)
}

/// Runs `request` on `state` inside an escape and a recovery boundary.
pub fn call(
    state: &mut Box<dyn Instance>,
    env: &mut SiteEnv<'_>,
    request: Request,
) -> Result<Result<Payload, Status>, Faulted> {
    let floor = heap::in_use(EXCHANGE).0;
    let index = env.index;
    let unwound_before = locks::released_by_unwinding(index);
    let envelope = Box::new(request);
    // A server calling another: the caller is at work again afterwards.
    let caller = supervision::active();
    supervision::set_active(env.server as u64);
    let entered = heap::enter(env.heap);
    let serve = move || {
        let request = envelope;
        state.handle(env, &request)
    };
    let name = request.server.name();
    // Both configurations run the server inside an escape boundary and a
    // recovery boundary. Under `unwind` a fault unwinds to the recovery
    // boundary, unless the unwinder cannot start (a wild instruction
    // pointer or stack): then, as under `restart` and `none` always, the
    // frames are discarded back to the escape boundary.
    // The fault (with its backtrace, hundreds of bytes) is kept here, so
    // that what crosses the escape boundary on every request stays small.
    let mut unwound = None;
    let ran = discard::run(|| unwind::catch(serve).map_err(|fault| unwound = Some(fault)).ok());
    let outcome = match ran {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(unwound.take().map_or(FaultCause::Panic, |fault| report_unwound(name, &fault))),
        Err(discarded) => {
            lazarus_rt::println!("tas: {} faulted ({:?}); its frames are discarded", name, cause_of(&discarded.kind));
            Err(cause_of(&discarded.kind))
        }
    };
    drop(entered);
    supervision::set_active(caller);
    outcome.map_err(|cause| {
        let exchange_owned = heap::in_use(EXCHANGE).0.saturating_sub(floor);
        let (private_at, exchange_at) = tas_runtime::at_fault::heap_bytes_at_last_fault();
        Faulted {
            cause,
            exchange_owned,
            at_fault: private_at + exchange_at.saturating_sub(floor),
            locks_held: locks::held_by(index),
            locks_unwound: locks::released_by_unwinding(index) - unwound_before,
        }
    })
}
