//! [`FileServer`]: the file server's state and its operations.

use core::fmt;

use server_api::kept::{self, entry_named, find_named, insert_entry, name_of};
use server_api::ops::fs::{FsOp, FILES_MAX, OPEN_CREATE, OPEN_EXCLUSIVE, OPEN_FLAGS, WRITE_HEADER_BYTES};
use server_api::{Env, InitNote, Name, Payload, Request, Server, Status};

use crate::disk::link::DiskLink;
use crate::file::FileRecord;
use crate::handles::HandleTable;
use crate::layout::GEOMETRY;
use crate::sites;

/// The file server: its directory, its open handles and its link to the
/// disk. All three are kept: every change is written through to the store,
/// and to the disk when there is one, before the reply.
pub struct FileServer {
    /// The directory: entry `i` is kept in store slot `i`.
    pub(crate) files: [Option<FileRecord>; FILES_MAX],
    /// The open handles.
    pub(crate) handles: HandleTable,
    /// Where the files live; `None` until the first request of the boot
    /// decides (`persist.rs`).
    pub(crate) disk: Option<DiskLink>,
}

/// The directory and the handles: what a client can see of the server.
/// The link to the disk is left out: it says how the files reach the
/// disk, not what they are, and an instance that faults in the first
/// request of a boot may have decided it while its files stayed as they
/// were.
impl fmt::Debug for FileServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileServer").field("files", &self.files).field("handles", &self.handles).finish_non_exhaustive()
    }
}

impl Server for FileServer {
    const SITES: u32 = sites::COUNT;
    const KEPT_WORDS: usize = GEOMETRY.region_words();

    fn init(env: &mut dyn Env) -> (Self, InitNote) {
        kept::restore(env.kept())
    }

    fn handle(&mut self, env: &mut dyn Env, request: &Request) -> Result<Payload, Status> {
        env.site(sites::ENTRY);
        let (arg, payload) = (request.arg, &request.payload);
        let op = FsOp::from_number(request.op).ok_or(Status::BadRequest)?;
        self.reach_disk(env)?;
        let answer = match op {
            FsOp::Open => self.open(env, arg, payload),
            FsOp::Write => self.write(env, arg, payload),
            FsOp::Read => self.read(env, arg, payload),
            FsOp::Size => Ok(Payload::word(self.file(arg)?.size())),
            FsOp::Close => self.close(env, arg),
            FsOp::Remove => self.remove(env, payload),
            FsOp::List => self.list(env, arg),
            FsOp::Stat => self.stat(payload),
        };
        // A change the disk did not take is kept, but not answered Ok.
        match answer {
            Ok(_) if changes(op) && self.disk.is_some_and(DiskLink::lags) => Err(Status::DiskError),
            answer => answer,
        }
    }
}

/// Whether `op` may change the files or the handles.
fn changes(op: FsOp) -> bool {
    matches!(op, FsOp::Open | FsOp::Write | FsOp::Close | FsOp::Remove)
}

impl FileServer {
    fn open(&mut self, env: &mut dyn Env, flags: u16, payload: &Payload) -> Result<Payload, Status> {
        let (create, exclusive) = (flags & OPEN_CREATE != 0, flags & OPEN_EXCLUSIVE != 0);
        if flags & !OPEN_FLAGS != 0 || (exclusive && !create) {
            return Err(Status::BadRequest);
        }
        let name = Name::from_payload(payload)?;
        let found = find_named(&self.files, &name);
        env.site(sites::OPEN);
        let file = match found {
            Some(_) if exclusive => return Err(Status::Exists),
            Some(file) => file,
            None if !create => return Err(Status::NotFound),
            None => {
                // Refuse before creating: no file without a handle to it.
                if !self.handles.has_room() {
                    return Err(Status::NoSpace);
                }
                let file = self.create(env, &name)?;
                env.site(sites::CREATED);
                file
            }
        };
        let handle = self.handles.open(file)?;
        self.keep_handles(env);
        Ok(Payload::word(u64::from(handle.0)))
    }

    /// Adds an empty file named `name` to the directory and keeps it;
    /// its index.
    fn create(&mut self, env: &mut dyn Env, name: &Name) -> Result<usize, Status> {
        let index = insert_entry(&mut self.files, FileRecord::new(name))?;
        self.keep_file(env, index);
        Ok(index)
    }

    fn write(&mut self, env: &mut dyn Env, handle: u16, payload: &Payload) -> Result<Payload, Status> {
        let (bytes, len) = payload.to_bytes();
        let data = bytes.get(WRITE_HEADER_BYTES..len).ok_or(Status::BadRequest)?;
        let offset = payload.words[0];
        let index = self.handles.file_of(handle)?;
        let file = self.files.get_mut(index).and_then(Option::as_mut).ok_or(Status::BadHandle)?;
        file.write(offset, data)?;
        let size = file.size();
        env.site(sites::WRITE);
        self.keep_file(env, index);
        Ok(Payload::word(size))
    }

    fn read(&mut self, env: &mut dyn Env, handle: u16, payload: &Payload) -> Result<Payload, Status> {
        let bytes = self.file(handle)?.read(payload.words[0])?;
        let reply = Payload::bytes(bytes).ok_or(Status::BadRequest)?;
        env.site(sites::READ);
        Ok(reply)
    }

    fn close(&mut self, env: &mut dyn Env, handle: u16) -> Result<Payload, Status> {
        self.handles.close(handle)?;
        env.site(sites::CLOSE);
        self.keep_handles(env);
        Ok(Payload::EMPTY)
    }

    fn remove(&mut self, env: &mut dyn Env, payload: &Payload) -> Result<Payload, Status> {
        let name = Name::from_payload(payload)?;
        let index = find_named(&self.files, &name).ok_or(Status::NotFound)?;
        // Handles first: a fault between the two writes leaves the file
        // with no handles, never handles to no file.
        if self.handles.close_file(index) {
            self.keep_handles(env);
        }
        env.site(sites::REMOVE);
        if let Some(entry) = self.files.get_mut(index) {
            *entry = None;
        }
        self.keep_file(env, index);
        Ok(Payload::EMPTY)
    }

    fn list(&mut self, env: &mut dyn Env, index: u16) -> Result<Payload, Status> {
        let file = self.files.iter().flatten().nth(usize::from(index)).ok_or(Status::NotFound)?;
        env.site(sites::LIST);
        Ok(name_of(file)?.with_word(file.size()))
    }

    fn stat(&self, payload: &Payload) -> Result<Payload, Status> {
        let name = Name::from_payload(payload)?;
        Ok(Payload::word(entry_named(&self.files, &name)?.size()))
    }

    /// The file `handle` is open on.
    fn file(&self, handle: u16) -> Result<&FileRecord, Status> {
        let index = self.handles.file_of(handle)?;
        self.files.get(index).and_then(Option::as_ref).ok_or(Status::BadHandle)
    }

}
