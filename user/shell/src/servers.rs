//! What the trusted address space says about its servers: `servers` (a
//! table of their states and recovery counters, then one of their memory:
//! heap, and the kept-state store with its corrected and uncorrectable
//! errors) and `log` (its recovery log).

use lazarus_rt::client::system::{self, ServerInfo, ServerUsage};
use lazarus_rt::println;

use crate::service::Told;

/// Bytes of a recovery log line printed; a longer one is cut and marked.
const LOG_LINE_BYTES: usize = 256;

/// `servers`: one line per server, in start order.
pub fn servers() {
    for index in 0..=u16::MAX {
        match system::info(index) {
            Ok(Some(info)) => {
                if index == 0 {
                    print_header();
                }
                print_row(&info);
            }
            Ok(None) if index == 0 => {
                println!("the trusted address space runs no servers");
                return;
            }
            Ok(None) => break,
            Err(e) => {
                println!("servers: {}", Told(e));
                return;
            }
        }
    }
    println!(
        "heap bytes RELEASED by unwinding, RECLAIMED by the backstop, LEAKED, over all recoveries; \
         RECOVERY: median latency"
    );
    memory();
}

/// The second table of `servers`: each server's memory now.
fn memory() {
    println!("{:<10} {:>9} {:>9} {:>11} {:>9} {:>7}", "SERVER", "HEAP", "HEAP SIZE", "STORE", "CORRECTED", "DAMAGED");
    for index in 0..=u16::MAX {
        let (info, usage) = match (system::info(index), system::usage(index)) {
            (Ok(Some(info)), Ok(Some(usage))) => (info, usage),
            (Ok(None), _) | (_, Ok(None)) => break,
            (Err(e), _) | (_, Err(e)) => {
                println!("servers: {}", Told(e));
                return;
            }
        };
        print_memory_row(&info, &usage);
    }
    println!(
        "bytes: HEAP in use of HEAP SIZE, STORE kept across restarts (error-corrected); CORRECTED single-bit \
         errors, DAMAGED restores (double-bit errors: started clean)"
    );
}

fn print_memory_row(info: &ServerInfo, usage: &ServerUsage) {
    let store = Store(usage.store_bytes);
    println!(
        "{:<10} {:>9} {:>9} {store} {:>9} {:>7}",
        info.server.name(),
        usage.heap_bytes,
        usage.heap_capacity,
        usage.corrected,
        usage.damaged
    );
}

/// A store size in bytes; 0 means the server keeps nothing.
struct Store(u32);

impl core::fmt::Display for Store {
    /// Eleven columns wide.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            0 => write!(f, "{:>11}", "-"),
            bytes => write!(f, "{bytes:>11}"),
        }
    }
}

fn print_header() {
    println!(
        "{:<10} {:<10} {:>4} {:>8} {:>6} {:>8} {:>9} {:>6} {:>9}",
        "SERVER", "STATE", "GEN", "RESTARTS", "FAULTS", "RELEASED", "RECLAIMED", "LEAKED", "RECOVERY"
    );
}

fn print_row(info: &ServerInfo) {
    println!(
        "{:<10} {:<10} {:>4} {:>8} {:>6} {:>8} {:>9} {:>6} {}",
        info.server.name(),
        info.state.name(),
        info.generation,
        info.restarts,
        info.faults,
        info.released_by_unwinding,
        info.reclaimed_by_backstop,
        info.leaked,
        Latency(info.median_latency_us),
    );
}

/// A median recovery latency in microseconds; 0 means none measured yet.
struct Latency(u32);

impl core::fmt::Display for Latency {
    /// Nine columns wide, as the table's last column.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            0 => write!(f, "{:>9}", "-"),
            us => write!(f, "{us:>6} us"),
        }
    }
}

/// `log`: the recovery log, oldest line first.
pub fn log() {
    let mut buf = [0u8; LOG_LINE_BYTES];
    for index in 0..=u16::MAX {
        match system::log_line(index, &mut buf) {
            Ok(Some(n)) => {
                let line = core::str::from_utf8(&buf[..n]).unwrap_or("(not text)");
                let cut = if n == buf.len() { " ..." } else { "" };
                println!("{line}{cut}");
            }
            Ok(None) if index == 0 => {
                println!("the recovery log is empty");
                return;
            }
            Ok(None) => return,
            Err(e) => {
                println!("log: {}", Told(e));
                return;
            }
        }
    }
}
