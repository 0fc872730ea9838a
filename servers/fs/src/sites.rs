//! The file server's fault-injection sites: where in its code an injected fault can fire.
//!
//! Each is a call to `Env::site` at a different depth of a request, so
//! faults land before, inside and after changes to memory and the store.

/// Entry of every request, before it is decoded.
pub const ENTRY: u32 = 0;
/// `Open`, once the name is resolved, before anything changes.
pub const OPEN: u32 = 1;
/// `Open` with create: the new file is kept, its handle not yet.
pub const CREATED: u32 = 2;
/// `Write`: the bytes are in memory, not yet in the store.
pub const WRITE: u32 = 3;
/// `Read`: the bytes are copied out, the reply not yet sent.
pub const READ: u32 = 4;
/// `Remove`: the file's handles are closed and kept, the file not yet
/// erased.
pub const REMOVE: u32 = 5;
/// `List`: the entry is found.
pub const LIST: u32 = 6;
/// `Close`: the handle is closed in memory, not yet in the store.
pub const CLOSE: u32 = 7;

/// Number of sites: `Server::SITES`.
pub const COUNT: u32 = 8;
