//! [`Harness`]: a server run as the TAS runs it, on the host.
//!
//! It owns a server and its [`TestEnv`] and serves requests the way the
//! TAS dispatcher does: a server that panics is unwound, its value
//! dropped, and `init` runs again over the same region, with the
//! generation bumped; the faulting request is answered `ServerFault`.

use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};

use server_api::{InitNote, Name, Payload, Reply, Request, Server, Status};

use crate::env::TestEnv;

/// A server run as the TAS runs it: faults unwound, the value dropped,
/// `init` again over the same kept region.
#[derive(Debug)]
pub struct Harness<S: Server> {
    /// The running instance (`None` only while it restarts).
    server: Option<S>,
    /// Its environment: kept region, sites, console.
    pub env: TestEnv,
    /// The instance's generation: 1 for the first, one more per restart.
    generation: u64,
    /// What the last `init` found.
    note: InitNote,
}

impl<S: Server> Harness<S> {
    /// The first instance, over a zeroed region.
    pub fn start() -> Self {
        Self::start_in(TestEnv::for_server::<S>())
    }

    /// The first instance in `env` (a region prepared by the test).
    pub fn start_in(mut env: TestEnv) -> Self {
        let (server, note) = S::init(&mut env);
        Harness { server: Some(server), env, generation: 1, note }
    }

    /// Serves `request` as the TAS does: the server's answer, or
    /// `ServerFault` (with the faulting generation) if it panicked, after
    /// which the server has been restarted.
    pub fn call(&mut self, request: &Request) -> Reply {
        if !request.is_for(self.generation) {
            return Reply { status: Status::StaleGeneration, generation: self.generation, payload: Payload::EMPTY };
        }
        let (server, env) = (&mut self.server, &mut self.env);
        let outcome = catch_unwind(AssertUnwindSafe(|| server.as_mut().map(|server| server.handle(env, request))));
        match outcome {
            Ok(Some(result)) => Reply {
                status: result.err().unwrap_or(Status::Ok),
                generation: self.generation,
                payload: result.unwrap_or(Payload::EMPTY),
            },
            Ok(None) => Reply { status: Status::Restarting, generation: self.generation, payload: Payload::EMPTY },
            Err(_) => {
                let faulted = self.generation;
                self.restart();
                Reply { status: Status::ServerFault, generation: faulted, payload: Payload::EMPTY }
            }
        }
    }

    /// Serves `request` with `buffer` lent for it, as another server's
    /// `Env::call_with` does; the server's writes to the buffer are in
    /// `buffer` afterwards.
    pub fn call_lending(&mut self, request: &Request, buffer: &mut [u8]) -> Reply {
        self.env.lent = Some(buffer.to_vec());
        let reply = self.call(request);
        if let Some(lent) = self.env.lent.take() {
            buffer.copy_from_slice(&lent);
        }
        reply
    }

    /// Serves `request`, as a `Result`.
    pub fn request(&mut self, request: &Request) -> Result<Payload, Status> {
        self.call(request).into_result()
    }

    /// Restarts the server: drops the instance, then runs `init` over the
    /// same region. Returns what `init` found.
    pub fn restart(&mut self) -> InitNote {
        self.server = None;
        // A buffer lent with the faulting request is the caller's, not
        // the new instance's: `init` sees none, as in the TAS.
        let lent = self.env.lent.take();
        let (server, note) = S::init(&mut self.env);
        self.env.lent = lent;
        self.server = Some(server);
        self.generation += 1;
        self.note = note;
        note
    }

    /// Restarts the server as the `restart` configuration does: the
    /// instance is forgotten, never dropped (its frames were discarded, so
    /// nothing it holds is given back but by the new instance's backstop),
    /// then `init` runs over the same region. Returns what `init` found.
    pub fn restart_discarding(&mut self) -> InitNote {
        std::mem::forget(self.server.take());
        self.restart()
    }

    /// What the last `init` found.
    pub fn note(&self) -> InitNote {
        self.note
    }

    /// The running instance's generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The running instance.
    pub fn server(&self) -> Option<&S> {
        self.server.as_ref()
    }

    /// Every entry of a listing whose replies are "name + word" (files
    /// and their sizes, registrations and their values): the requests
    /// `list(0)`, `list(1)`, … until one answers `NotFound`.
    ///
    /// # Panics
    /// On any other error, or a reply that is no "name + word" (this is a
    /// test helper).
    pub fn list_named(&mut self, list: impl Fn(u16) -> Request) -> Vec<(String, u64)> {
        let mut entries = Vec::new();
        for index in 0..=u16::MAX {
            match self.request(&list(index)) {
                Ok(payload) => {
                    let (name, word) = Name::from_payload_with_word(&payload).expect("a name + word reply");
                    entries.push((name.to_string(), word));
                }
                Err(Status::NotFound) => break,
                Err(other) => panic!("listing entry {index}: {other:?}"),
            }
        }
        entries
    }
}

impl<S: Server + Debug> Harness<S> {
    /// The first instance over a copy of `region` with `flip` applied to
    /// word `word`: a restart after bits flipped in the kept memory.
    ///
    /// # Panics
    /// If `word` is beyond the region (this is a test helper).
    pub fn start_flipped(region: &[u64], word: usize, flip: u64) -> Self {
        let mut env = TestEnv::for_server::<S>();
        env.kept = region.to_vec();
        env.kept[word] ^= flip;
        Self::start_in(env)
    }

    /// The first instance over a copy of `region`: a restart, from a
    /// region saved earlier.
    pub fn start_over(region: &[u64]) -> Self {
        let mut env = TestEnv::for_server::<S>();
        env.kept = region.to_vec();
        Self::start_in(env)
    }

    /// The instance's whole state, to compare instances.
    pub fn state(&self) -> String {
        format!("{:?}", self.server)
    }
}
