//! Client stubs: the calls programs make to the servers of the trusted address space, one function per operation.
//!
//! Every stub encodes one or more [`Request`]s (layouts in
//! `server_api::ops`), sends each with one IPC call on the service
//! endpoint [`SERVICE`], and decodes the [`Reply`]. Errors say who is at
//! fault ([`ClientError`]): the IPC call itself, the server's answer, the
//! caller's arguments, or a reply that makes no sense.
//!
//! Retries: while a server restarts, its requests fail with a transient
//! status (`ServerFault`, `Restarting`). A request that does the same
//! thing however often it runs (read, size, stat, lookup, list, echo,
//! compute, and a write at an explicit offset) is sent again, up to
//! [`ATTEMPTS`] times in all, after a pause that starts at
//! [`BACKOFF_FIRST_MS`] and doubles up to [`BACKOFF_MAX_MS`]. Any other
//! request (open, close, remove, register, unregister, console output,
//! the crash-test faults) may have taken effect before the fault, so its
//! transient status goes back to the caller, who knows whether to redo it.

use core::fmt;

use lazarus_abi::SyscallError;
use server_api::ops::fs::{OPEN_CREATE, OPEN_EXCLUSIVE, READ_BYTES_MAX, WRITE_BYTES_MAX, WRITE_HEADER_BYTES};
pub use server_api::{Name, ServerId, Status};
use server_api::{Payload, Reply, Request, PAYLOAD_BYTES};

use crate::ipc::Handle;

/// The service endpoint: the kernel gives every program the TAS's
/// endpoint as handle 0.
pub const SERVICE: Handle = Handle(0);

/// Sends of an idempotent request, the first included, while its server
/// answers with a transient status.
pub const ATTEMPTS: u32 = 10;
/// Pause before the first retry: a restart without back-off takes about
/// a millisecond.
pub const BACKOFF_FIRST_MS: u64 = 2;
/// Longest pause between retries. With [`ATTEMPTS`], a request waits at
/// most about 190 ms in all (2 + 4 + 8 + 16 + 5 × 32), which covers the
/// recovery manager's back-off before a server that stays down is
/// reported as an error.
pub const BACKOFF_MAX_MS: u64 = 32;

/// Why a stub failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The IPC call failed (the kernel said so): the request did not reach
    /// the TAS, or its answer was lost.
    Ipc(SyscallError),
    /// The server answered with this status (not `Ok`); after retries, if
    /// the request was idempotent.
    Server(Status),
    /// The caller's arguments cannot be sent (an invalid name, an offset
    /// that overflows); nothing was sent.
    Invalid,
    /// The reply does not decode, or breaks its operation's layout.
    BadReply,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Ipc(error) => write!(f, "IPC failed: {error}"),
            ClientError::Server(status) => write!(f, "server: {status}"),
            ClientError::Invalid => f.write_str("arguments beyond the protocol's limits"),
            ClientError::BadReply => f.write_str("the reply makes no sense"),
        }
    }
}

/// Whether a request may be sent again after a transient status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Retry {
    /// It does the same however often it runs: retried.
    Idempotent,
    /// It may have taken effect: sent once.
    Once,
}

/// Sends `request`, retrying as `retry` allows; the reply's payload.
fn call(request: &Request, retry: Retry) -> Result<Payload, ClientError> {
    let mut pause_ms = BACKOFF_FIRST_MS;
    let mut attempt = 1;
    loop {
        let words = transport::exchange(request.encode()).map_err(ClientError::Ipc)?;
        let reply = Reply::decode(words).map_err(|_| ClientError::BadReply)?;
        match reply.into_result() {
            Err(status) if status.is_transient() && retry == Retry::Idempotent && attempt < ATTEMPTS => {
                transport::pause(pause_ms);
                pause_ms = (pause_ms * 2).min(BACKOFF_MAX_MS);
                attempt += 1;
            }
            result => return result.map_err(ClientError::Server),
        }
    }
}

/// Sends `request` once and returns the reply whatever its status: for
/// callers that look at the status and generation themselves (tests,
/// tools). Only an IPC failure or an undecodable reply is an error.
pub fn send(request: &Request) -> Result<Reply, ClientError> {
    let words = transport::exchange(request.encode()).map_err(ClientError::Ipc)?;
    Reply::decode(words).map_err(|_| ClientError::BadReply)
}

/// A request to `server` with operation `op`.
fn request(server: ServerId, op: u8, arg: u16, payload: Payload) -> Request {
    Request::new(server, op, arg).with(payload)
}

/// `text` as a name.
fn name_of(text: &str) -> Result<Name, ClientError> {
    Name::try_new(text.as_bytes()).map_err(|_| ClientError::Invalid)
}

/// `base + delta`, or `Invalid` past `u64::MAX`.
fn offset_plus(base: u64, delta: usize) -> Result<u64, ClientError> {
    u64::try_from(delta).ok().and_then(|delta| base.checked_add(delta)).ok_or(ClientError::Invalid)
}

/// One entry of a listing answered "name + word", retried; `None` past
/// the last entry (the server's `NotFound`).
fn list_entry(request: &Request) -> Result<Option<(Name, u64)>, ClientError> {
    match call(request, Retry::Idempotent) {
        Ok(payload) => Name::from_payload_with_word(&payload).map(Some).map_err(|_| ClientError::BadReply),
        Err(ClientError::Server(Status::NotFound)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The way to the TAS: the service endpoint, and the kernel's sleep.
#[cfg(not(test))]
mod transport {
    use super::{SyscallError, SERVICE};
    use crate::ipc::{self, Message};
    use crate::sys;

    /// One IPC round trip with the TAS.
    pub(super) fn exchange(words: Message) -> Result<Message, SyscallError> {
        ipc::call(SERVICE, words)
    }

    /// The pause before a retry. A sleep cut short only makes the retry
    /// come sooner, so its error is of no consequence.
    pub(super) fn pause(ms: u64) {
        let _ = sys::sleep_ms(ms);
    }
}

/// In host tests, the TAS is simulated on the test's thread: a `syscall`
/// instruction on the host would reach the host's kernel.
#[cfg(test)]
use tests::sim as transport;

pub mod fs {
    //! The file server (`server_api::ops::fs`).

    use server_api::ops::fs::FsOp;

    use super::*;

    pub use server_api::FileHandle;

    /// A file in the directory.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct DirEntry {
        /// Its name.
        pub name: Name,
        /// Its size in bytes.
        pub size: u64,
    }

    fn fs_request(op: FsOp, arg: u16, payload: Payload) -> Request {
        request(ServerId::Fs, op as u8, arg, payload)
    }

    /// Opens the file `name`; with `create`, makes it (empty) if it does
    /// not exist. Sent once: a retried open could leave a handle open.
    pub fn open(name: &str, create: bool) -> Result<FileHandle, ClientError> {
        open_with(name, if create { OPEN_CREATE } else { 0 })
    }

    /// Makes the file `name` and opens it; `Server(Exists)` if it exists.
    /// Sent once.
    pub fn create_new(name: &str) -> Result<FileHandle, ClientError> {
        open_with(name, OPEN_CREATE | OPEN_EXCLUSIVE)
    }

    fn open_with(name: &str, flags: u16) -> Result<FileHandle, ClientError> {
        let payload = name_of(name)?.to_payload();
        let reply = call(&fs_request(FsOp::Open, flags, payload), Retry::Once)?;
        u16::try_from(reply.words[0]).map(FileHandle).map_err(|_| ClientError::BadReply)
    }

    /// Writes `bytes` at `offset`, a request per
    /// `ops::fs::WRITE_BYTES_MAX` bytes, each retried. A failure leaves
    /// the bytes before the failing request written.
    pub fn write(handle: FileHandle, offset: u64, bytes: &[u8]) -> Result<(), ClientError> {
        for (index, chunk) in bytes.chunks(WRITE_BYTES_MAX).enumerate() {
            let at = offset_plus(offset, index * WRITE_BYTES_MAX)?;
            let mut data = [0u8; PAYLOAD_BYTES];
            data[..WRITE_HEADER_BYTES].copy_from_slice(&at.to_le_bytes());
            data[WRITE_HEADER_BYTES..WRITE_HEADER_BYTES + chunk.len()].copy_from_slice(chunk);
            let payload = Payload::bytes(&data[..WRITE_HEADER_BYTES + chunk.len()]).ok_or(ClientError::Invalid)?;
            call(&fs_request(FsOp::Write, handle.0, payload), Retry::Idempotent)?;
        }
        Ok(())
    }

    /// Reads from `offset` into `buf`, a request per
    /// `ops::fs::READ_BYTES_MAX` bytes, each retried; the bytes read,
    /// fewer than `buf` holds at the end of the file.
    pub fn read(handle: FileHandle, offset: u64, buf: &mut [u8]) -> Result<usize, ClientError> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset_plus(offset, done)?;
            let reply = call(&fs_request(FsOp::Read, handle.0, Payload::word(at)), Retry::Idempotent)?;
            let (bytes, len) = reply.to_bytes();
            let n = len.min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&bytes[..n]);
            done += n;
            if len < READ_BYTES_MAX {
                break;
            }
        }
        Ok(done)
    }

    /// The size of an open file. Retried.
    pub fn size(handle: FileHandle) -> Result<u64, ClientError> {
        Ok(call(&fs_request(FsOp::Size, handle.0, Payload::EMPTY), Retry::Idempotent)?.words[0])
    }

    /// The size of the file `name`. Retried.
    pub fn stat(name: &str) -> Result<u64, ClientError> {
        let payload = name_of(name)?.to_payload();
        Ok(call(&fs_request(FsOp::Stat, 0, payload), Retry::Idempotent)?.words[0])
    }

    /// Closes a handle. Sent once.
    pub fn close(handle: FileHandle) -> Result<(), ClientError> {
        call(&fs_request(FsOp::Close, handle.0, Payload::EMPTY), Retry::Once).map(drop)
    }

    /// Removes the file `name`, closing its handles. Sent once.
    pub fn remove(name: &str) -> Result<(), ClientError> {
        let payload = name_of(name)?.to_payload();
        call(&fs_request(FsOp::Remove, 0, payload), Retry::Once).map(drop)
    }

    /// The `index`-th file of the directory, `None` past the last. Retried.
    pub fn list(index: u16) -> Result<Option<DirEntry>, ClientError> {
        let entry = list_entry(&fs_request(FsOp::List, index, Payload::EMPTY))?;
        Ok(entry.map(|(name, size)| DirEntry { name, size }))
    }
}

pub mod name {
    //! The name server (`server_api::ops::name`).

    use server_api::NameOp;

    use super::*;

    /// A registered name and its value.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Registration {
        /// The name.
        pub name: Name,
        /// Its value.
        pub value: u64,
    }

    fn name_request(op: NameOp, arg: u16, payload: Payload) -> Request {
        request(ServerId::Name, op as u8, arg, payload)
    }

    /// Registers `name` to `value`; `Server(Exists)` if it is taken. Sent
    /// once.
    pub fn register(name: &str, value: u64) -> Result<(), ClientError> {
        let payload = name_of(name)?.with_word(value);
        call(&name_request(NameOp::Register, 0, payload), Retry::Once).map(drop)
    }

    /// The value of `name`. Retried.
    pub fn lookup(name: &str) -> Result<u64, ClientError> {
        let payload = name_of(name)?.to_payload();
        Ok(call(&name_request(NameOp::Lookup, 0, payload), Retry::Idempotent)?.words[0])
    }

    /// Removes the registration of `name`. Sent once.
    pub fn unregister(name: &str) -> Result<(), ClientError> {
        let payload = name_of(name)?.to_payload();
        call(&name_request(NameOp::Unregister, 0, payload), Retry::Once).map(drop)
    }

    /// The `index`-th registration, `None` past the last. Retried.
    pub fn list(index: u16) -> Result<Option<Registration>, ClientError> {
        let entry = list_entry(&name_request(NameOp::List, index, Payload::EMPTY))?;
        Ok(entry.map(|(name, value)| Registration { name, value }))
    }
}

pub mod crashtest {
    //! The crash-test server (`server_api::ops::crashtest`). The faults it
    //! is asked for answer `Err(Server(ServerFault))`, sent once.

    use server_api::CrashtestOp;

    use super::*;

    pub use server_api::ops::crashtest::{compute_checksum, RelayOutcome, Timings, TIME_CALLS_MAX};

    fn crashtest_request(op: CrashtestOp, arg: u16, payload: Payload) -> Request {
        request(ServerId::Crashtest, op as u8, arg, payload)
    }

    /// Each word plus one. Retried.
    pub fn echo(words: [u64; 3]) -> Result<[u64; 3], ClientError> {
        Ok(call(&crashtest_request(CrashtestOp::Echo, 0, Payload::words(words)), Retry::Idempotent)?.words)
    }

    /// The checksum of `n` words computed on the server's heap; check it
    /// with [`compute_checksum`]. Retried.
    pub fn compute(n: u16) -> Result<u64, ClientError> {
        Ok(call(&crashtest_request(CrashtestOp::Compute, n, Payload::EMPTY), Retry::Idempotent)?.words[0])
    }

    /// Makes the server panic.
    pub fn panic() -> Result<(), ClientError> {
        call(&crashtest_request(CrashtestOp::Panic, 0, Payload::EMPTY), Retry::Once).map(drop)
    }

    /// Makes the server loop until its watchdog fires.
    pub fn hang() -> Result<(), ClientError> {
        call(&crashtest_request(CrashtestOp::Hang, 0, Payload::EMPTY), Retry::Once).map(drop)
    }

    /// Makes crashtest call `server` from inside the TAS, as servers call
    /// each other, with `request`'s op, arg and first two payload words;
    /// what crashtest saw (the answer, or the callee's fault and its
    /// generation). Sent once.
    pub fn relay(request: &Request) -> Result<RelayOutcome, ClientError> {
        let control = u64::from(request.op) | u64::from(request.arg) << 8 | u64::from(request.payload.len) << 24;
        let [first, second, _] = request.payload.words;
        let payload = Payload::words([control, first, second]);
        let reply = call(&crashtest_request(CrashtestOp::Relay, request.server as u16, payload), Retry::Once)?;
        RelayOutcome::decode(&reply).ok_or(ClientError::BadReply)
    }

    /// Makes crashtest time `n` direct calls (1 to [`TIME_CALLS_MAX`]) to
    /// another server inside the TAS, after a warm-up; their timings, in
    /// time-stamp counter ticks. Retried: it changes nothing.
    pub fn time_calls(n: u16) -> Result<Timings, ClientError> {
        Ok(Timings::decode(&call(&crashtest_request(CrashtestOp::TimeCalls, n, Payload::EMPTY), Retry::Idempotent)?))
    }

    /// Makes crashtest take the shared console lock, and with `fault`
    /// panic while holding it. Sent once.
    pub fn hold_lock(fault: bool) -> Result<(), ClientError> {
        call(&crashtest_request(CrashtestOp::HoldLock, u16::from(fault), Payload::EMPTY), Retry::Once).map(drop)
    }

    /// Makes the server recurse `depth` frames deep (0: until its stack
    /// overflows); the depth reached.
    pub fn recurse(depth: u16) -> Result<u64, ClientError> {
        Ok(call(&crashtest_request(CrashtestOp::Recurse, depth, Payload::EMPTY), Retry::Once)?.words[0])
    }
}

pub mod console {
    //! The console server (`server_api::ops::console`).

    use server_api::ConsoleOp;

    use super::*;

    /// Writes `bytes` to the console, a request per payload's worth. Lines
    /// appear whole, when they end. Each request is sent once.
    pub fn write(bytes: &[u8]) -> Result<(), ClientError> {
        for chunk in bytes.chunks(PAYLOAD_BYTES) {
            let payload = Payload::bytes(chunk).ok_or(ClientError::Invalid)?;
            call(&request(ServerId::Console, ConsoleOp::Write as u8, 0, payload), Retry::Once)?;
        }
        Ok(())
    }

    /// Sends the unfinished line. Sent once.
    pub fn flush() -> Result<(), ClientError> {
        call(&request(ServerId::Console, ConsoleOp::Flush as u8, 0, Payload::EMPTY), Retry::Once).map(drop)
    }
}

pub mod system {
    //! The TAS's own requests (`server_api::system`): each server's state
    //! and counters, faults armed by hand, and the recovery log.

    use server_api::system::SystemOp;

    use super::*;

    pub use server_api::system::{ServerInfo, ServerState, ServerUsage};

    fn system_request(op: SystemOp, arg: u16, payload: Payload) -> Request {
        request(ServerId::System, op as u8, arg, payload)
    }

    /// The state and counters of the `index`-th server in start order,
    /// `None` past the last. Retried.
    pub fn info(index: u16) -> Result<Option<ServerInfo>, ClientError> {
        match call(&system_request(SystemOp::Info, index, Payload::EMPTY), Retry::Idempotent) {
            Ok(payload) => ServerInfo::decode(&payload).map(Some).ok_or(ClientError::BadReply),
            Err(ClientError::Server(Status::NotFound)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The memory of the `index`-th server in start order (heap, kept-state
    /// store), `None` past the last. Retried.
    pub fn usage(index: u16) -> Result<Option<ServerUsage>, ClientError> {
        match call(&system_request(SystemOp::Usage, index, Payload::EMPTY), Retry::Idempotent) {
            Ok(payload) => Ok(Some(ServerUsage::decode(&payload))),
            Err(ClientError::Server(Status::NotFound)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The state and counters of `server`; `Server(NotFound)` if the TAS
    /// does not run it.
    pub fn info_of(server: ServerId) -> Result<ServerInfo, ClientError> {
        for index in 0.. {
            match info(index)? {
                Some(info) if info.server == server => return Ok(info),
                Some(_) => {}
                None => break,
            }
        }
        Err(ClientError::Server(Status::NotFound))
    }

    /// Arms the fault `model` (an injector model, or `pagefault`, `gp`,
    /// `ud`, `divide`) in `server`: it fires at the server's next
    /// injection site. `Server(BadRequest)` for an unknown model,
    /// `Server(NotFound)` for an unknown server. Sent once.
    pub fn inject(server: ServerId, model: &str) -> Result<(), ClientError> {
        let payload = Payload::bytes(model.as_bytes()).ok_or(ClientError::Invalid)?;
        call(&system_request(SystemOp::Inject, server as u16, payload), Retry::Once).map(drop)
    }

    /// Line `index` of the recovery log (oldest kept first) into `buf`,
    /// cut to its length; the bytes written, or `None` past the last
    /// line. Retried.
    pub fn log_line(index: u16, buf: &mut [u8]) -> Result<Option<usize>, ClientError> {
        let mut written = 0;
        loop {
            let offset = Payload::word(written as u64);
            let piece = match call(&system_request(SystemOp::Log, index, offset), Retry::Idempotent) {
                Ok(payload) => payload,
                Err(ClientError::Server(Status::NotFound)) => return Ok(None),
                Err(error) => return Err(error),
            };
            let (bytes, len) = piece.to_bytes();
            let room = buf.len() - written;
            let taken = len.min(room);
            buf[written..written + taken].copy_from_slice(&bytes[..taken]);
            written += taken;
            if len < PAYLOAD_BYTES || taken < len || written == buf.len() {
                return Ok(Some(written));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use server_api::ops::crashtest::COMPUTE_WORDS_MAX;
    use server_api::FsOp;

    use super::*;

    pub(super) mod sim {
        //! A TAS on the test's thread: the four servers in host harnesses,
        //! which unwind a faulting server and restart it as the TAS does.

        use std::cell::RefCell;
        use std::string::String;
        use std::vec::Vec;

        use console_server::ConsoleServer;
        use crashtest_server::CrashtestServer;
        use fs_server::FileServer;
        use name_server::NameServer;
        use server_harness::Harness;
        use server_api::system::{ServerInfo, ServerState, ServerUsage, SystemOp};
        use server_api::{Payload, Reply, Request, ServerId, Status, PAYLOAD_BYTES};

        use crate::ipc::Message;
        use crate::SyscallError;

        /// The simulated TAS.
        pub struct Tas {
            pub fs: Harness<FileServer>,
            pub name: Harness<NameServer>,
            pub crashtest: Harness<CrashtestServer>,
            pub console: Harness<ConsoleServer>,
            /// IPC calls made.
            pub calls: u32,
            /// Pauses the stubs took, in milliseconds.
            pub pauses: Vec<u64>,
            /// Answer this many coming calls `Restarting`.
            pub restarting: u32,
            /// Fail the next call with this IPC error.
            pub ipc_error: Option<SyscallError>,
            /// Answer the next call with these words.
            pub garbage: Option<Message>,
            /// The recovery log the system server answers from.
            pub log: Vec<String>,
            /// Faults armed by hand: the server and the model.
            pub injected: Vec<(ServerId, String)>,
        }

        impl Tas {
            fn new() -> Self {
                Tas {
                    fs: Harness::start(),
                    name: Harness::start(),
                    crashtest: Harness::start(),
                    console: Harness::start(),
                    calls: 0,
                    pauses: Vec::new(),
                    restarting: 0,
                    ipc_error: None,
                    garbage: None,
                    log: Vec::new(),
                    injected: Vec::new(),
                }
            }

            fn exchange(&mut self, words: Message) -> Result<Message, SyscallError> {
                self.calls += 1;
                if let Some(error) = self.ipc_error.take() {
                    return Err(error);
                }
                if let Some(words) = self.garbage.take() {
                    return Ok(words);
                }
                let unanswered = |status| Reply { status, generation: 0, payload: Payload::EMPTY };
                if self.restarting > 0 {
                    self.restarting -= 1;
                    return Ok(unanswered(Status::Restarting).encode());
                }
                let reply = match Request::decode(words) {
                    Ok(request) => self.route(&request),
                    Err(status) => unanswered(status),
                };
                Ok(reply.encode())
            }

            fn route(&mut self, request: &Request) -> Reply {
                match request.server {
                    ServerId::Fs => self.fs.call(request),
                    ServerId::Name => self.name.call(request),
                    ServerId::Crashtest => self.crashtest.call(request),
                    ServerId::Console => self.console.call(request),
                    // No disk server in the simulated TAS.
                    ServerId::Blk => Reply { status: Status::ServerDead, generation: 0, payload: Payload::EMPTY },
                    ServerId::System => {
                        let result = self.system(request);
                        Reply {
                            status: result.err().unwrap_or(Status::Ok),
                            generation: 0,
                            payload: result.unwrap_or(Payload::EMPTY),
                        }
                    }
                }
            }

            /// The system server, in start order console, name, fs,
            /// crashtest as in the TAS.
            fn system(&mut self, request: &Request) -> Result<Payload, Status> {
                match SystemOp::from_number(request.op).ok_or(Status::BadRequest)? {
                    SystemOp::Info => {
                        let (server, generation) = match request.arg {
                            0 => (ServerId::Console, self.console.generation()),
                            1 => (ServerId::Name, self.name.generation()),
                            2 => (ServerId::Fs, self.fs.generation()),
                            3 => (ServerId::Crashtest, self.crashtest.generation()),
                            _ => return Err(Status::NotFound),
                        };
                        let generation = generation as u32;
                        let info = ServerInfo {
                            server,
                            state: ServerState::Serving,
                            generation,
                            restarts: generation - 1,
                            faults: generation - 1,
                            released_by_unwinding: 0,
                            reclaimed_by_backstop: 0,
                            leaked: 0,
                            median_latency_us: 0,
                        };
                        Ok(info.encode())
                    }
                    SystemOp::Inject => {
                        let server = ServerId::from_number(request.arg as u8).ok_or(Status::NotFound)?;
                        let (bytes, len) = request.payload.to_bytes();
                        let model = String::from_utf8(bytes[..len].to_vec()).map_err(|_| Status::BadRequest)?;
                        self.injected.push((server, model));
                        Ok(Payload::EMPTY)
                    }
                    SystemOp::Usage => {
                        let kept = match request.arg {
                            0 => self.console.env.kept.len(),
                            1 => self.name.env.kept.len(),
                            2 => self.fs.env.kept.len(),
                            3 => self.crashtest.env.kept.len(),
                            _ => return Err(Status::NotFound),
                        };
                        let store_bytes = kept as u32 * 8;
                        let usage = ServerUsage {
                            heap_bytes: 0,
                            heap_capacity: 0,
                            store_bytes,
                            corrected: 0,
                            damaged: 0,
                            locks_released_by_unwinding: 0,
                            locks_reclaimed_by_backstop: 0,
                        };
                        Ok(usage.encode())
                    }
                    SystemOp::Log => {
                        let line = self.log.get(usize::from(request.arg)).ok_or(Status::NotFound)?;
                        let rest = line.as_bytes().get(request.payload.words[0] as usize..).unwrap_or(&[]);
                        Payload::bytes(&rest[..rest.len().min(PAYLOAD_BYTES)]).ok_or(Status::BadRequest)
                    }
                }
            }
        }

        std::thread_local! {
            static TAS: RefCell<Tas> = RefCell::new(Tas::new());
        }

        /// Runs `f` on this thread's TAS.
        pub fn with<R>(f: impl FnOnce(&mut Tas) -> R) -> R {
            TAS.with_borrow_mut(f)
        }

        pub(in crate::client) fn exchange(words: Message) -> Result<Message, SyscallError> {
            with(|tas| tas.exchange(words))
        }

        pub(in crate::client) fn pause(ms: u64) {
            with(|tas| tas.pauses.push(ms));
        }
    }

    #[test]
    fn files_are_created_written_read_listed_and_removed() {
        let h = fs::create_new("notes").unwrap();
        let text = b"forty bytes of text, more than one write";
        fs::write(h, 0, text).unwrap();
        assert_eq!(fs::size(h), Ok(text.len() as u64));
        let mut buf = [0u8; 64];
        assert_eq!(fs::read(h, 0, &mut buf), Ok(text.len()));
        assert_eq!(&buf[..text.len()], text);
        let mut small = [0u8; 5];
        assert_eq!(fs::read(h, 6, &mut small), Ok(5));
        assert_eq!(&small, b"bytes");
        assert_eq!(fs::stat("notes"), Ok(text.len() as u64));
        let entry = fs::list(0).unwrap().unwrap();
        assert_eq!((entry.name.as_str(), entry.size), ("notes", text.len() as u64));
        assert_eq!(fs::list(1), Ok(None));
        assert_eq!(fs::create_new("notes"), Err(ClientError::Server(Status::Exists)));
        let again = fs::open("notes", false).unwrap();
        fs::close(h).unwrap();
        assert_eq!(fs::close(h), Err(ClientError::Server(Status::BadHandle)));
        fs::remove("notes").unwrap();
        assert_eq!(fs::size(again), Err(ClientError::Server(Status::BadHandle)));
        assert_eq!(fs::open("notes", false), Err(ClientError::Server(Status::NotFound)));
        assert!(fs::open("notes", true).is_ok());
    }

    #[test]
    fn an_idempotent_read_is_retried_across_a_restart() {
        let h = fs::open("log", true).unwrap();
        fs::write(h, 0, b"survives").unwrap();
        sim::with(|tas| tas.fs.env.arm(fs_server::sites::READ, 0));
        let mut buf = [0u8; 8];
        assert_eq!(fs::read(h, 0, &mut buf), Ok(8), "the handle is valid after the restart");
        assert_eq!(&buf, b"survives");
        sim::with(|tas| {
            assert_eq!(tas.fs.generation(), 2);
            assert_eq!(tas.pauses, [BACKOFF_FIRST_MS]);
        });
    }

    #[test]
    fn a_write_is_retried_across_a_restart() {
        let h = fs::open("data", true).unwrap();
        sim::with(|tas| tas.fs.env.arm(fs_server::sites::WRITE, 1));
        fs::write(h, 0, &[7u8; 40]).unwrap();
        let mut buf = [0u8; 48];
        assert_eq!(fs::read(h, 0, &mut buf), Ok(40));
        assert!(buf[..40].iter().all(|&b| b == 7));
        sim::with(|tas| assert_eq!(tas.fs.generation(), 2));
    }

    #[test]
    fn a_request_that_may_have_taken_effect_is_not_retried() {
        fs::open("victim", true).unwrap();
        sim::with(|tas| tas.fs.env.arm(fs_server::sites::REMOVE, 0));
        let calls = sim::with(|tas| tas.calls);
        assert_eq!(fs::remove("victim"), Err(ClientError::Server(Status::ServerFault)));
        sim::with(|tas| assert_eq!(tas.calls, calls + 1, "sent once"));
        sim::with(|tas| tas.restarting = 1);
        assert_eq!(name::register("svc", 1), Err(ClientError::Server(Status::Restarting)));
    }

    #[test]
    fn retries_back_off_and_give_up_after_the_last_attempt() {
        sim::with(|tas| tas.restarting = 3);
        assert_eq!(crashtest::echo([1, 2, 3]), Ok([2, 3, 4]));
        sim::with(|tas| assert_eq!(tas.pauses, [2, 4, 8]));
        sim::with(|tas| {
            tas.pauses.clear();
            tas.calls = 0;
            tas.restarting = u32::MAX;
        });
        assert_eq!(name::lookup("any"), Err(ClientError::Server(Status::Restarting)));
        sim::with(|tas| {
            assert_eq!(tas.calls, ATTEMPTS);
            assert_eq!(tas.pauses.len() as u32, ATTEMPTS - 1);
            assert!(tas.pauses.iter().all(|&ms| ms <= BACKOFF_MAX_MS));
            assert!(tas.pauses.iter().sum::<u64>() < 200, "bounded wait");
        });
    }

    #[test]
    fn names_are_registered_looked_up_listed_and_unregistered() {
        name::register("fs", 2).unwrap();
        name::register("console", 4).unwrap();
        assert_eq!(name::register("fs", 3), Err(ClientError::Server(Status::Exists)));
        assert_eq!(name::lookup("console"), Ok(4));
        let listed: Vec<_> = (0..).map_while(|i| name::list(i).unwrap()).map(|r| (r.name, r.value)).collect();
        assert_eq!(listed, [(Name::try_new(b"fs").unwrap(), 2), (Name::try_new(b"console").unwrap(), 4)]);
        name::unregister("fs").unwrap();
        assert_eq!(name::lookup("fs"), Err(ClientError::Server(Status::NotFound)));
    }

    #[test]
    fn crashtest_answers_and_faults_on_request() {
        assert_eq!(crashtest::compute(COMPUTE_WORDS_MAX), Ok(crashtest::compute_checksum(COMPUTE_WORDS_MAX)));
        assert_eq!(crashtest::recurse(5), Ok(5));
        assert_eq!(crashtest::panic(), Err(ClientError::Server(Status::ServerFault)));
        sim::with(|tas| tas.crashtest.env.arm(crashtest_server::sites::HANG, 100));
        assert_eq!(crashtest::hang(), Err(ClientError::Server(Status::ServerFault)));
        sim::with(|tas| assert_eq!(tas.crashtest.generation(), 3));
        assert_eq!(crashtest::echo([0; 3]), Ok([1; 3]));
    }

    #[test]
    fn time_calls_answers_crashtests_timings_and_is_retried() {
        use server_api::CallError;
        // The harness's clock stands still: every sample is 0 ticks.
        sim::with(|tas| tas.crashtest.env.call_answer = Some(Ok(Payload::EMPTY)));
        let timings = crashtest::time_calls(3).unwrap();
        assert_eq!((timings.samples, timings.median, timings.p99), (3, 0, 0));
        assert_eq!(crashtest::time_calls(0), Err(ClientError::Server(Status::BadRequest)));
        let fault = CallError::ServerFault { server: ServerId::Console, generation: 1 };
        sim::with(|tas| tas.crashtest.env.call_answer = Some(Err(fault)));
        assert_eq!(crashtest::time_calls(1), Err(ClientError::Server(Status::Restarting)));
        sim::with(|tas| assert_eq!(tas.pauses.len() as u32, ATTEMPTS - 1, "retried: it changes nothing"));
    }

    #[test]
    fn console_output_is_cut_into_requests_and_shown_by_line() {
        console::write(b"a line longer than one request's payload\nand half").unwrap();
        sim::with(|tas| assert_eq!(tas.console.env.console, b"a line longer than one request's payload\n"));
        console::flush().unwrap();
        sim::with(|tas| assert_eq!(tas.console.env.console, b"a line longer than one request's payload\nand half"));
    }

    #[test]
    fn invalid_arguments_are_refused_before_sending() {
        assert_eq!(fs::open("no spaces", true), Err(ClientError::Invalid));
        assert_eq!(name::lookup("seventeen-bytes-x"), Err(ClientError::Invalid));
        assert_eq!(fs::remove(""), Err(ClientError::Invalid));
        sim::with(|tas| assert_eq!(tas.calls, 0, "nothing was sent"));
        // An offset the server refuses is its answer to give.
        let h = fs::open("f", true).unwrap();
        assert_eq!(fs::write(h, u64::MAX - 4, &[0; 20]), Err(ClientError::Server(Status::BadRequest)));
        sim::with(|tas| assert_eq!(tas.calls, 2, "the open, and the first write's request"));
    }

    #[test]
    fn ipc_errors_and_nonsense_replies_are_told_apart() {
        sim::with(|tas| tas.ipc_error = Some(SyscallError::PeerGone));
        assert_eq!(crashtest::echo([0; 3]), Err(ClientError::Ipc(SyscallError::PeerGone)));
        sim::with(|tas| tas.garbage = Some([0xFF, 0, 0, 0]));
        assert_eq!(crashtest::echo([0; 3]), Err(ClientError::BadReply));
        let no_handle = Reply { status: Status::Ok, generation: 1, payload: Payload::word(1 << 20) };
        sim::with(|tas| tas.garbage = Some(no_handle.encode()));
        assert_eq!(fs::open("f", true), Err(ClientError::BadReply));
    }

    #[test]
    fn the_system_server_lists_servers_takes_injections_and_reads_the_log() {
        let listed: Vec<_> = (0..).map_while(|i| system::info(i).unwrap()).map(|i| i.server).collect();
        assert_eq!(listed, [ServerId::Console, ServerId::Name, ServerId::Fs, ServerId::Crashtest]);
        assert_eq!(crashtest::panic(), Err(ClientError::Server(Status::ServerFault)));
        let crashtest = system::info_of(ServerId::Crashtest).unwrap();
        assert_eq!((crashtest.generation, crashtest.restarts), (2, 1));
        system::inject(ServerId::Fs, "stackoverflow").unwrap();
        sim::with(|tas| assert_eq!(tas.injected, [(ServerId::Fs, "stackoverflow".into())]));
        assert_eq!(system::inject(ServerId::Fs, "a model name longer than a payload"), Err(ClientError::Invalid));
        let fs_store = system::usage(2).unwrap().unwrap().store_bytes;
        assert_eq!(fs_store as usize, 8 * <fs_server::FileServer as server_api::Server>::KEPT_WORDS);
        assert_eq!(system::usage(4), Ok(None));

        let long = "fs generation 2 started: restored its kept state (1466 words)";
        sim::with(|tas| tas.log = vec![long.into(), "x".repeat(PAYLOAD_BYTES)]);
        let mut buf = [0u8; 128];
        assert_eq!(system::log_line(0, &mut buf), Ok(Some(long.len())));
        assert_eq!(&buf[..long.len()], long.as_bytes());
        let mut small = [0u8; 30];
        assert_eq!(system::log_line(0, &mut small), Ok(Some(30)), "cut to the buffer");
        assert_eq!(&small, &long.as_bytes()[..30]);
        assert_eq!(system::log_line(1, &mut buf), Ok(Some(PAYLOAD_BYTES)), "a line of exactly one piece");
        assert_eq!(system::log_line(2, &mut buf), Ok(None));
    }

    #[test]
    fn a_request_for_an_older_instance_gets_the_typed_error() {
        let h = fs::open("kept", true).unwrap();
        let pinned = |generation| {
            Request::new(ServerId::Fs, FsOp::Size as u8, h.0).expecting(generation).unwrap()
        };
        assert_eq!(send(&pinned(1)).map(|r| r.status), Ok(Status::Ok));
        sim::with(|tas| tas.fs.restart());
        let stale = send(&pinned(1)).unwrap();
        assert_eq!((stale.status, stale.generation), (Status::StaleGeneration, 2));
        assert_eq!(send(&pinned(2)).map(|r| r.status), Ok(Status::Ok), "the current instance serves");
        assert_eq!(fs::size(h), Ok(0), "a request for any instance is served");
    }
}
