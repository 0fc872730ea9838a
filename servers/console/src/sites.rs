//! The console server's fault-injection sites: where in its code an injected fault can fire.

/// Entry of every request, before it is decoded.
pub const ENTRY: u32 = 0;
/// `Write`: a line is complete in the buffer, not yet sent.
pub const LINE: u32 = 1;
/// `Flush`: the partial line is about to be sent.
pub const FLUSH: u32 = 2;

/// Number of sites: `Server::SITES`.
pub const COUNT: u32 = 3;
