//! The crash-test server's fault-injection sites: where in its code an injected fault can fire.

/// Entry of every request, before it is decoded.
pub const ENTRY: u32 = 0;
/// `Echo`: the answer is computed.
pub const ECHO: u32 = 1;
/// `Compute`: the vector is filled on the heap, not yet summed.
pub const COMPUTE: u32 = 2;
/// `Recurse`: every frame, its buffer on the stack.
pub const RECURSE: u32 = 3;
/// `Hang`: every turn of the endless loop.
pub const HANG: u32 = 4;

/// Number of sites: `Server::SITES`.
pub const COUNT: u32 = 5;
/// Sites of well-behaved requests (all but `HANG`): `Server::CAMPAIGN_SITES`.
pub const WELL_BEHAVED: u32 = 4;
