//! The TAS's own requests (server [`ServerId::System`]): the listing of
//! servers, fault injection by hand, and the recovery log.
//!
//! | op | argument | request payload | reply payload |
//! |---|---|---|---|
//! | 0 `Info` | index in start order | — | [`ServerInfo`] words |
//! | 1 `Inject` | server number | the model's name (bytes) | — |
//! | 2 `Log` | line index | word 0: byte offset | up to 24 bytes of the line (`len` 0: past its end) |
//! | 3 `Usage` | index in start order | — | [`ServerUsage`] words |
//!
//! `Info` and `Usage` past the last server and `Log` past the last line
//! answer `NotFound`.

use crate::message::Payload;
use crate::server_id::ServerId;

/// The operations of the system server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SystemOp {
    /// One server's state and counters.
    Info = 0,
    /// Arm a fault by hand: it fires at the server's next injection site.
    Inject = 1,
    /// A piece of one line of the recovery log.
    Log = 2,
    /// One server's memory now: heap and kept-state store.
    Usage = 3,
}

impl SystemOp {
    /// The operation with this number.
    pub const fn from_number(n: u8) -> Option<Self> {
        match n {
            0 => Some(SystemOp::Info),
            1 => Some(SystemOp::Inject),
            2 => Some(SystemOp::Log),
            3 => Some(SystemOp::Usage),
            _ => None,
        }
    }
}

/// A server's state, as `Info` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ServerState {
    /// Serving requests.
    Serving = 0,
    /// Being restarted.
    Restarting = 1,
    /// Given up on.
    Dead = 2,
}

impl ServerState {
    /// The state's name.
    pub const fn name(self) -> &'static str {
        match self {
            ServerState::Serving => "serving",
            ServerState::Restarting => "restarting",
            ServerState::Dead => "dead",
        }
    }
}

/// What `Info` reports about one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    /// The server.
    pub server: ServerId,
    /// Its state.
    pub state: ServerState,
    /// Its generation.
    pub generation: u32,
    /// Restarts so far.
    pub restarts: u32,
    /// Faults so far.
    pub faults: u32,
    /// Heap bytes released by unwinding (frames and state dropped), over
    /// all its recoveries.
    pub released_by_unwinding: u32,
    /// Heap bytes reclaimed by the backstop, over all its recoveries.
    pub reclaimed_by_backstop: u32,
    /// Heap bytes leaked, over all its recoveries.
    pub leaked: u32,
    /// Median recovery latency in microseconds (0: none yet).
    pub median_latency_us: u32,
}

impl ServerInfo {
    /// The reply payload: word 0 server (bits 0-7), state (8-15),
    /// generation (16-47), leaked bytes (48-63, saturated); word 1 restarts
    /// (0-15, saturated), faults (16-31, saturated), median latency (32-63);
    /// word 2 released (0-31), reclaimed (32-63).
    pub fn encode(&self) -> Payload {
        let sat16 = |v: u32| u64::from(v.min(u32::from(u16::MAX)));
        let w0 = self.server as u64 | (self.state as u64) << 8 | u64::from(self.generation) << 16 | sat16(self.leaked) << 48;
        let w1 = sat16(self.restarts) | sat16(self.faults) << 16 | u64::from(self.median_latency_us) << 32;
        let w2 = u64::from(self.released_by_unwinding) | u64::from(self.reclaimed_by_backstop) << 32;
        Payload::words([w0, w1, w2])
    }

    /// The info in a reply payload; `None` if it names no server or state.
    pub fn decode(payload: &Payload) -> Option<Self> {
        let [w0, w1, w2] = payload.words;
        let state = match (w0 >> 8) as u8 {
            0 => ServerState::Serving,
            1 => ServerState::Restarting,
            2 => ServerState::Dead,
            _ => return None,
        };
        Some(ServerInfo {
            server: ServerId::from_number(w0 as u8)?,
            state,
            generation: (w0 >> 16) as u32,
            leaked: (w0 >> 48) as u32,
            restarts: (w1 & 0xFFFF) as u32,
            faults: ((w1 >> 16) & 0xFFFF) as u32,
            median_latency_us: (w1 >> 32) as u32,
            released_by_unwinding: w2 as u32,
            reclaimed_by_backstop: (w2 >> 32) as u32,
        })
    }
}

/// What `Usage` reports about one server's memory: what a recovery must
/// bring back to its baseline, and what its kept-state store has been
/// through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerUsage {
    /// Bytes allocated in its private heap now (the running instance's
    /// state; after a recovery, back to what a fresh instance holds).
    pub heap_bytes: u32,
    /// Size of its private heap.
    pub heap_capacity: u32,
    /// Size of its kept-state store in bytes (0: it keeps nothing).
    pub store_bytes: u32,
    /// Single-bit errors in the store corrected, over all its restores.
    pub corrected: u32,
    /// Restores that found the store damaged beyond correction (a
    /// double-bit error) and started clean instead.
    pub damaged: u32,
    /// Shared locks its faulted instances' frames released as they
    /// unwound, over all its recoveries.
    pub locks_released_by_unwinding: u16,
    /// Shared locks the backstop took back from its faulted instances.
    pub locks_reclaimed_by_backstop: u16,
}

impl ServerUsage {
    /// The reply payload: word 0 heap bytes (bits 0-31), heap capacity
    /// (32-63); word 1 store bytes (0-31), corrected (32-63); word 2
    /// damaged (0-31), locks released by unwinding (32-47), locks
    /// reclaimed by the backstop (48-63).
    pub fn encode(&self) -> Payload {
        let pair = |low: u32, high: u32| u64::from(low) | u64::from(high) << 32;
        Payload::words([
            pair(self.heap_bytes, self.heap_capacity),
            pair(self.store_bytes, self.corrected),
            u64::from(self.damaged)
                | u64::from(self.locks_released_by_unwinding) << 32
                | u64::from(self.locks_reclaimed_by_backstop) << 48,
        ])
    }

    /// The usage in a reply payload.
    pub fn decode(payload: &Payload) -> Self {
        let [w0, w1, w2] = payload.words;
        ServerUsage {
            heap_bytes: w0 as u32,
            heap_capacity: (w0 >> 32) as u32,
            store_bytes: w1 as u32,
            corrected: (w1 >> 32) as u32,
            damaged: w2 as u32,
            locks_released_by_unwinding: (w2 >> 32) as u16,
            locks_reclaimed_by_backstop: (w2 >> 48) as u16,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_round_trips() {
        let info = ServerInfo {
            server: ServerId::Fs,
            state: ServerState::Restarting,
            generation: 7,
            restarts: 6,
            faults: 6,
            released_by_unwinding: 4096,
            reclaimed_by_backstop: 12,
            leaked: 0,
            median_latency_us: 1234,
        };
        assert_eq!(ServerInfo::decode(&info.encode()), Some(info));
        assert_eq!(SystemOp::from_number(2), Some(SystemOp::Log));
        assert_eq!(SystemOp::from_number(3), Some(SystemOp::Usage));
        assert_eq!(SystemOp::from_number(4), None);
    }

    #[test]
    fn usage_round_trips() {
        let usage = ServerUsage {
            heap_bytes: 5016,
            heap_capacity: 196_608,
            store_bytes: 11_728,
            corrected: 3,
            damaged: 1,
            locks_released_by_unwinding: 2,
            locks_reclaimed_by_backstop: 65_535,
        };
        assert_eq!(ServerUsage::decode(&usage.encode()), usage);
    }
}
