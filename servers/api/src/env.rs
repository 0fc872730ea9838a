//! What the trusted address space gives a server while it serves: its
//! fault-injection sites, its kept-state region and the console.

/// The server's surroundings during `init` and `handle`.
pub trait Env {
    /// An injection site: a place in the server's code where a fault armed
    /// by a campaign (or by `inject` in the shell) may fire. `site` numbers
    /// the site within the server, from 0 to `Server::SITES - 1`; the call
    /// costs nothing when no fault is armed.
    fn site(&mut self, site: u32);

    /// The server's kept-state region: memory outside its heap that
    /// survives its restarts (open it with `resilient_store`). Empty for a
    /// server that keeps nothing.
    fn kept(&mut self) -> &mut [u64];

    /// Writes `bytes` to the system console as they are (no line
    /// discipline: that is the console server's job, the one server that
    /// calls this). The TAS passes them to the kernel's console; output
    /// the console cannot take is dropped, never blocked on.
    fn console_write(&mut self, bytes: &[u8]);
}
