//! [`NameServer`]: the name server's state and its operations.

use server_api::kept::{self, entry_named, find_named, insert_entry, name_of, write_entry};
use server_api::ops::name::{NameOp, REGISTRATIONS_MAX};
use server_api::{Env, InitNote, Name, Payload, Request, Server, Status};

use crate::layout::{GEOMETRY, SLOTS};
use crate::registration::Registration;
use crate::sites;

/// The name server: its registrations, kept one store slot each and
/// written through before the reply.
#[derive(Debug)]
pub struct NameServer {
    /// The registrations: entry `i` is kept in store slot `i`.
    pub(crate) entries: [Option<Registration>; REGISTRATIONS_MAX],
}

impl Server for NameServer {
    const SITES: u32 = sites::COUNT;
    const KEPT_WORDS: usize = GEOMETRY.region_words();

    fn init(env: &mut dyn Env) -> (Self, InitNote) {
        kept::restore(env.kept())
    }

    fn handle(&mut self, env: &mut dyn Env, request: &Request) -> Result<Payload, Status> {
        env.site(sites::ENTRY);
        let payload = &request.payload;
        match NameOp::from_number(request.op).ok_or(Status::BadRequest)? {
            NameOp::Register => self.register(env, payload),
            NameOp::Lookup => self.lookup(env, payload),
            NameOp::Unregister => self.unregister(env, payload),
            NameOp::List => self.list(env, request.arg),
        }
    }
}

impl NameServer {
    fn register(&mut self, env: &mut dyn Env, payload: &Payload) -> Result<Payload, Status> {
        let (name, value) = Name::from_payload_with_word(payload)?;
        if find_named(&self.entries, &name).is_some() {
            return Err(Status::Exists);
        }
        let index = insert_entry(&mut self.entries, Registration::new(&name, value))?;
        env.site(sites::REGISTER);
        self.keep(env, index);
        Ok(Payload::EMPTY)
    }

    fn lookup(&self, env: &mut dyn Env, payload: &Payload) -> Result<Payload, Status> {
        let name = Name::from_payload(payload)?;
        let value = entry_named(&self.entries, &name)?.value;
        env.site(sites::LOOKUP);
        Ok(Payload::word(value))
    }

    fn unregister(&mut self, env: &mut dyn Env, payload: &Payload) -> Result<Payload, Status> {
        let name = Name::from_payload(payload)?;
        let index = find_named(&self.entries, &name).ok_or(Status::NotFound)?;
        if let Some(entry) = self.entries.get_mut(index) {
            *entry = None;
        }
        env.site(sites::UNREGISTER);
        self.keep(env, index);
        Ok(Payload::EMPTY)
    }

    fn list(&self, env: &mut dyn Env, index: u16) -> Result<Payload, Status> {
        let entry = self.entries.iter().flatten().nth(usize::from(index)).ok_or(Status::NotFound)?;
        env.site(sites::LIST);
        Ok(name_of(entry)?.with_word(entry.value))
    }

    /// Writes entry `index` through to its slot.
    fn keep(&self, env: &mut dyn Env, index: usize) {
        write_entry(env.kept(), GEOMETRY, &SLOTS, &self.entries, index);
    }
}
