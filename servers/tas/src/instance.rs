//! One server instance slot: the server's state object (in the server's
//! private heap), its generation, and its kept-state region (in the
//! exchange heap, so it survives the private heap's reset).

use alloc::boxed::Box;
use alloc::vec::Vec;

use server_api::{Env, InitNote, Payload, Request, Server, ServerId, Status};
use tas_runtime::heap::HeapId;

/// A server's state object with its type erased.
pub trait Instance {
    /// Serves one request.
    fn handle(&mut self, env: &mut dyn Env, request: &Request) -> Result<Payload, Status>;
}

impl<S: Server> Instance for S {
    fn handle(&mut self, env: &mut dyn Env, request: &Request) -> Result<Payload, Status> {
        Server::handle(self, env, request)
    }
}

/// Starts an instance of a server (its `init`, boxed in the current heap).
pub type InitFn = fn(&mut dyn Env) -> (Box<dyn Instance>, InitNote);

/// `InitFn` of server type `S`.
pub fn init_of<S: Server + 'static>(env: &mut dyn Env) -> (Box<dyn Instance>, InitNote) {
    let (server, note) = S::init(env);
    (Box::new(server), note)
}

/// The address of server type `S`'s request handler (`Server::handle`, the
/// function every request of the server runs; `Instance::handle` is only a
/// jump to it), the code a `memflip` into text lands in.
pub fn handler_code<S: Server + 'static>() -> u64 {
    let handle: fn(&mut S, &mut dyn Env, &Request) -> Result<Payload, Status> = <S as Server>::handle;
    handle as usize as u64
}

/// A server as the TAS knows it.
pub struct Slot {
    /// Which server.
    pub id: ServerId,
    /// Its injection sites a campaign aims at (`Server::CAMPAIGN_SITES`):
    /// a planned site-bound fault fires at `site % sites`.
    pub sites: u32,
    /// How to start an instance.
    pub init: InitFn,
    /// Its request handler's address ([`handler_code`]).
    pub code: u64,
    /// Its private heap.
    pub heap: HeapId,
    /// The state object of the running instance; `None` while restarting
    /// or dead.
    pub state: Option<Box<dyn Instance>>,
    /// The state object of a faulted instance under `restart` or `none`:
    /// never dropped (its frames were discarded), only forgotten when its
    /// heap is reset.
    pub abandoned: Option<Box<dyn Instance>>,
    /// The generation of the running (or last) instance.
    pub generation: u32,
    /// The kept-state region.
    pub kept: Vec<u64>,
    /// Exchange-heap bytes the instance owned at its last fault, after the
    /// unwind (or discard): the in-flight request's leftovers.
    pub exchange_owned: usize,
    /// What its restores found in the kept-state store.
    pub store: StoreEvents,
}

/// What a server's restores found in its kept-state store, over all its
/// instances.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoreEvents {
    /// Single-bit errors corrected.
    pub corrected: u64,
    /// Restores that found the store damaged beyond correction and started
    /// clean.
    pub damaged: u32,
}

impl StoreEvents {
    /// Counts what one `init` said of the store.
    pub fn count(&mut self, note: InitNote) {
        match note {
            InitNote::Restored { corrected } => self.corrected += corrected,
            InitNote::DamagedFormatted => self.damaged += 1,
            InitNote::NothingKept | InitNote::Formatted => {}
        }
    }
}

impl Slot {
    /// Forgets the state objects of the running and of any abandoned
    /// instance without dropping them: their heap is about to be reset (or
    /// the server is dead), so nothing may run their `Drop`s.
    pub fn forget_instances(&mut self) {
        for state in [self.state.take(), self.abandoned.take()].into_iter().flatten() {
            core::mem::forget(state);
        }
    }
}

/// The resources of a slot's instance as the recovery manager counts them:
/// heap bytes in its private heap plus what it owns in the exchange heap.
pub fn owned_bytes(slot: &Slot) -> u64 {
    (tas_runtime::heap::in_use(slot.heap).0 + slot.exchange_owned) as u64
}
