//! The TAS's main loop: receive a request on the service endpoint, route it
//! to its server through the proxy (or answer it here, for the system
//! server), reply, and receive the next.

use alloc::string::String;

use lazarus_rt::ipc::{self, Handle};
use lazarus_rt::println;
use recovery_manager::ServerState as ManagerState;
use server_api::system::{ServerInfo, ServerState, ServerUsage, SystemOp};
use server_api::{Payload, Reply, Request, ServerId, Status, PAYLOAD_BYTES};

use crate::injector::Injector;
use crate::proxy::{self, SiteEnv};
use crate::supervisor::Supervisor;

/// The service endpoint: the kernel gives it to the TAS as handle 0.
const SERVICE: Handle = Handle(0);

/// The TAS: its servers under supervision, and the injector.
pub struct System {
    /// The servers and the recovery manager.
    pub supervisor: Supervisor,
    /// The fault injector.
    pub injector: Injector,
}

impl System {
    /// Serves requests forever; returns only if the endpoint fails.
    pub fn serve(&mut self) -> i32 {
        let mut message = match ipc::recv(SERVICE) {
            Ok(m) => m,
            Err(e) => {
                println!("tas: cannot receive on the service endpoint: {e}");
                return 1;
            }
        };
        loop {
            let reply = self.answer(message);
            message = match ipc::reply_recv(SERVICE, reply.encode()) {
                Ok(m) => m,
                Err(e) => {
                    println!("tas: the service endpoint failed: {e}");
                    return 2;
                }
            };
        }
    }

    fn answer(&mut self, words: [u64; 4]) -> Reply {
        self.supervisor.poll(&mut self.injector);
        let request = match Request::decode(words) {
            Ok(r) => r,
            Err(status) => return Reply { status, generation: 0, payload: Payload::EMPTY },
        };
        if request.server == ServerId::System {
            let result = self.system(&request);
            return reply(0, result);
        }
        self.injector.on_request();
        let Some(index) = self.index_of(request.server) else {
            return reply(0, Err(Status::BadRequest));
        };
        // A user program lends nothing: its request is four words.
        self.call(index, request, None)
    }

    /// The slot serving `server`.
    pub fn index_of(&self, server: ServerId) -> Option<usize> {
        self.supervisor.slots.iter().position(|s| s.id == server)
    }

    /// Serves `request` with the server in slot `index`, through its proxy:
    /// from a client, or from another server (nested), which may lend it
    /// the bytes `lent` for the call. The server's state and kept region
    /// are taken out of its slot while it serves, so a call that comes back
    /// to it (a cycle) finds it `Busy`.
    pub fn call(&mut self, index: usize, request: Request, lent: Option<&mut [u8]>) -> Reply {
        let id = recovery_manager::ServerId::new(index as u16);
        let state = self.supervisor.manager.registry().get(id).map(|s| s.state());
        let slot = &mut self.supervisor.slots[index];
        let generation = slot.generation;
        match state {
            Some(ManagerState::Serving) => {}
            Some(ManagerState::Dead { .. }) | None => return reply(generation, Err(Status::ServerDead)),
            Some(_) => return reply(generation, Err(Status::Restarting)),
        }
        if !request.is_for(u64::from(generation)) {
            return reply(generation, Err(Status::StaleGeneration));
        }
        // Serving, yet no state: it is in a call further up the stack.
        let Some(mut state) = slot.state.take() else { return reply(generation, Err(Status::Busy)) };
        let mut kept = core::mem::take(&mut slot.kept);
        let (server, sites, heap) = (slot.id, slot.sites, slot.heap);
        let state_at = proxy::place_in_heap(heap, &*state);
        let outcome = {
            let mut env = SiteEnv { server, index, generation, sites, heap, state_at, kept: &mut kept, lent, tas: self };
            proxy::call(&mut state, &mut env, request)
        };
        let slot = &mut self.supervisor.slots[index];
        slot.kept = kept;
        slot.state = Some(state);
        match outcome {
            Ok(result) => {
                self.supervisor.on_served(index);
                reply(generation, result)
            }
            Err(faulted) => {
                self.supervisor.on_fault(index, faulted, &mut self.injector);
                reply(generation, Err(Status::ServerFault))
            }
        }
    }

    fn system(&mut self, request: &Request) -> Result<Payload, Status> {
        match SystemOp::from_number(request.op).ok_or(Status::BadRequest)? {
            SystemOp::Info => {
                let index = usize::from(request.arg);
                let slot = self.supervisor.slots.get(index).ok_or(Status::NotFound)?;
                let id = recovery_manager::ServerId::new(index as u16);
                let manager = &self.supervisor.manager;
                let server = manager.registry().get(id).ok_or(Status::NotFound)?;
                let state = match server.state() {
                    ManagerState::Serving => ServerState::Serving,
                    ManagerState::Dead { .. } => ServerState::Dead,
                    _ => ServerState::Restarting,
                };
                let counters = manager.accounting(id);
                let sat = |v: u64| v.min(u64::from(u32::MAX)) as u32;
                let info = ServerInfo {
                    server: slot.id,
                    state,
                    generation: slot.generation,
                    restarts: slot.generation.saturating_sub(1),
                    faults: server.history().total() as u32,
                    released_by_unwinding: counters.map_or(0, |a| sat(a.counters().released_by_unwinding().heap_bytes)),
                    reclaimed_by_backstop: counters.map_or(0, |a| sat(a.counters().reclaimed_by_backstop().heap_bytes)),
                    leaked: counters.map_or(0, |a| sat(a.counters().leaked().heap_bytes)),
                    median_latency_us: manager.latency(id).and_then(|l| l.median()).map_or(0, |t| sat(t.get())),
                };
                Ok(info.encode())
            }
            SystemOp::Inject => {
                let server = u8::try_from(request.arg).ok().and_then(ServerId::from_number).ok_or(Status::NotFound)?;
                if server == ServerId::System {
                    return Err(Status::BadRequest);
                }
                let (bytes, len) = request.payload.to_bytes();
                let name = core::str::from_utf8(&bytes[..len]).map_err(|_| Status::BadRequest)?;
                self.injector.arm_manual(server, name).ok_or(Status::BadRequest)?;
                Ok(Payload::EMPTY)
            }
            SystemOp::Usage => {
                let slot = self.supervisor.slots.get(usize::from(request.arg)).ok_or(Status::NotFound)?;
                let sat = |v: u64| v.min(u64::from(u32::MAX)) as u32;
                let id = recovery_manager::ServerId::new(request.arg);
                let counters = self.supervisor.manager.accounting(id).map(|a| *a.counters());
                let sat16 = |v: u64| v.min(u64::from(u16::MAX)) as u16;
                let usage = ServerUsage {
                    locks_released_by_unwinding: counters.map_or(0, |c| sat16(c.released_by_unwinding().locks)),
                    locks_reclaimed_by_backstop: counters.map_or(0, |c| sat16(c.reclaimed_by_backstop().locks)),
                    heap_bytes: sat(tas_runtime::heap::in_use(slot.heap).0 as u64),
                    heap_capacity: sat(tas_runtime::heap::region(slot.heap).1),
                    store_bytes: sat(slot.kept.len() as u64 * 8),
                    corrected: sat(slot.store.corrected),
                    damaged: slot.store.damaged,
                };
                Ok(usage.encode())
            }
            SystemOp::Log => {
                let line: &String = self.supervisor.log.get(usize::from(request.arg)).ok_or(Status::NotFound)?;
                let offset = usize::try_from(request.payload.words[0]).map_err(|_| Status::BadRequest)?;
                let rest = line.as_bytes().get(offset..).unwrap_or(&[]);
                Payload::bytes(&rest[..rest.len().min(PAYLOAD_BYTES)]).ok_or(Status::BadRequest)
            }
        }
    }
}

fn reply(generation: u32, result: Result<Payload, Status>) -> Reply {
    match result {
        Ok(payload) => Reply { status: Status::Ok, generation: u64::from(generation), payload },
        Err(status) => Reply { status, generation: u64::from(generation), payload: Payload::EMPTY },
    }
}
