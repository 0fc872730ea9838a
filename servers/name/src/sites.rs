//! The name server's fault-injection sites: where in its code an injected fault can fire.

/// Entry of every request, before it is decoded.
pub const ENTRY: u32 = 0;
/// `Register`: the registration is in memory, not yet in the store.
pub const REGISTER: u32 = 1;
/// `Lookup`: the registration is found.
pub const LOOKUP: u32 = 2;
/// `Unregister`: the registration is gone from memory, not yet from the
/// store.
pub const UNREGISTER: u32 = 3;
/// `List`: the entry is found.
pub const LIST: u32 = 4;

/// Number of sites: `Server::SITES`.
pub const COUNT: u32 = 5;
