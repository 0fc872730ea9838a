//! The disk server's fault-injection sites: where in its code an injected fault can fire.
//!
//! A data request's first site is [`IN_FLIGHT`]: a fault armed by hand
//! (which fires at the next site reached) lands while the device holds
//! the request, the hardest moment to recover from.

/// `Info` and `Books`, before the answer is made.
pub const INFO: u32 = 0;
/// `Read`, `Write` and `Flush`: the request is published to the device
/// and the device notified, its answer not yet in. Once per sector.
pub const IN_FLIGHT: u32 = 1;
/// `Read` and `Write`: every sector done (and for a read, copied into
/// the lent buffer), the reply not yet sent.
pub const DONE: u32 = 2;

/// Number of sites: `Server::SITES`.
pub const COUNT: u32 = 3;
