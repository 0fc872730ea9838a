//! [`TestEnv`]: an `Env` over plain memory, for host tests of servers.
//!
//! It keeps the kept-state region in a `Vec<u64>`, counts each injection
//! site's hits, panics at an armed site (an injected fault), and collects
//! console output. Calls to other servers go to a [`Callee`] if the test
//! set one (another server in a harness of its own, see [`Callee::to`]),
//! else they get a fixed answer. Its time-stamp counter moves only when the
//! test moves it.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::rc::Rc;

use server_api::{CallError, Env, LockId, Payload, Request, Server, ServerId, Status};

use crate::harness::Harness;

/// How a callee answers: the request, and the buffer lent with it (if
/// any), in; its answer out.
type Answer = dyn FnMut(&Request, Option<&mut [u8]>) -> Result<Payload, CallError>;

/// What answers a server's calls to another.
pub struct Callee(Box<Answer>);

impl Callee {
    /// Calls answered by `answer`.
    pub fn new(answer: impl FnMut(&Request, Option<&mut [u8]>) -> Result<Payload, CallError> + 'static) -> Self {
        Callee(Box::new(answer))
    }

    /// Calls answered by the server in `callee`, as the TAS's proxy would:
    /// its fault comes back as `ServerFault` with the faulted generation
    /// (the harness has restarted it meanwhile), its error statuses as
    /// `Refused`. The test keeps its own handle on the harness, to arm
    /// faults in the callee and look at it.
    pub fn to<S: Server + 'static>(server: ServerId, callee: Rc<RefCell<Harness<S>>>) -> Self {
        Callee::new(move |request, lent| {
            let mut callee = callee.borrow_mut();
            let reply = match lent {
                Some(buffer) => callee.call_lending(request, buffer),
                None => callee.call(request),
            };
            match reply.status {
                Status::Ok => Ok(reply.payload),
                Status::ServerFault => Err(CallError::ServerFault { server, generation: reply.generation as u32 }),
                status => Err(CallError::Refused(status)),
            }
        })
    }
}

impl fmt::Debug for Callee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Callee(..)")
    }
}

/// An `Env` over plain memory, for host tests.
#[derive(Debug, Default)]
pub struct TestEnv {
    /// The kept-state region.
    pub kept: Vec<u64>,
    /// Bytes the server wrote to the console.
    pub console: Vec<u8>,
    /// Hits of each site so far.
    hits: Vec<u64>,
    /// The armed fault: the site, and how many of its hits to let through
    /// before the one that faults.
    armed: Option<(u32, u64)>,
    /// Calls the server made to other servers.
    pub calls: Vec<Request>,
    /// What those calls get when there is no [`TestEnv::callee`] (`None`:
    /// `Refused(ServerDead)`, no other server runs here).
    pub call_answer: Option<Result<Payload, CallError>>,
    /// What answers those calls, if set.
    pub callee: Option<Callee>,
    /// The buffer lent with the request being served
    /// ([`Harness::call_lending`]).
    pub lent: Option<Vec<u8>>,
    /// The shared locks held.
    pub held: [bool; LockId::COUNT],
    /// The time-stamp counter the server reads ([`Env::cycles`]). It
    /// stands still unless the test moves it: shared, so that a
    /// [`Callee`] can advance it as if its call took time.
    pub clock: Rc<Cell<u64>>,
}

impl TestEnv {
    /// An environment for a server of `S`'s sites and kept words, its
    /// region zeroed (a first start).
    pub fn for_server<S: Server>() -> Self {
        let sites = usize::try_from(S::SITES).unwrap_or(usize::MAX);
        TestEnv { kept: vec![0; S::KEPT_WORDS], hits: vec![0; sites], ..TestEnv::default() }
    }

    /// Hits of `site` so far.
    pub fn hits(&self, site: u32) -> u64 {
        usize::try_from(site).ok().and_then(|site| self.hits.get(site)).copied().unwrap_or(0)
    }

    /// How many distinct sites were hit.
    pub fn sites_hit(&self) -> usize {
        self.hits.iter().filter(|&&hits| hits > 0).count()
    }

    /// Arms a fault: the hit of `site` after the next `skip` ones panics,
    /// as an injected fault would fire there. One fault per arming.
    pub fn arm(&mut self, site: u32, skip: u64) {
        self.armed = Some((site, skip));
    }

    /// Takes back an armed fault that has not fired.
    pub fn disarm(&mut self) {
        self.armed = None;
    }

    /// Whether an armed fault has not fired yet.
    pub fn armed(&self) -> bool {
        self.armed.is_some()
    }
}

impl Env for TestEnv {
    /// Counts the hit; panics at an armed site, and at a site number
    /// beyond the server's `SITES` (a server bug).
    fn site(&mut self, site: u32) {
        let Some(hits) = usize::try_from(site).ok().and_then(|index| self.hits.get_mut(index)) else {
            panic!("site {site} is beyond the server's SITES ({})", self.hits.len());
        };
        *hits += 1;
        match &mut self.armed {
            Some((armed, 0)) if *armed == site => {
                self.armed = None;
                panic!("injected fault at site {site}");
            }
            Some((armed, skip)) if *armed == site => *skip -= 1,
            _ => {}
        }
    }

    fn kept(&mut self) -> &mut [u64] {
        &mut self.kept
    }

    fn console_write(&mut self, bytes: &[u8]) {
        self.console.extend_from_slice(bytes);
    }

    fn cycles(&self) -> u64 {
        self.clock.get()
    }

    fn call(&mut self, request: &Request) -> Result<Payload, CallError> {
        self.calls.push(*request);
        match &mut self.callee {
            Some(callee) => (callee.0)(request, None),
            None => self.call_answer.unwrap_or(Err(CallError::Refused(Status::ServerDead))),
        }
    }

    fn call_with(&mut self, request: &Request, buffer: &mut [u8]) -> Result<Payload, CallError> {
        self.calls.push(*request);
        match &mut self.callee {
            Some(callee) => (callee.0)(request, Some(buffer)),
            None => self.call_answer.unwrap_or(Err(CallError::Refused(Status::ServerDead))),
        }
    }

    fn lent(&mut self) -> Option<&mut [u8]> {
        self.lent.as_deref_mut()
    }

    /// Holds the lock while `body` runs; a panic in `body` releases it on
    /// its way out, as unwinding does in the TAS.
    fn locked(&mut self, lock: LockId, body: &mut dyn FnMut(&mut dyn Env)) -> Result<(), Status> {
        let index = usize::from(lock.0);
        match self.held.get(index) {
            None => return Err(Status::BadRequest),
            Some(true) => return Err(Status::Busy),
            Some(false) => {}
        }
        self.held[index] = true;
        let outcome = catch_unwind(AssertUnwindSafe(|| body(self)));
        self.held[index] = false;
        if let Err(panic) = outcome {
            resume_unwind(panic);
        }
        Ok(())
    }
}
