//! Benchmarks in the guest (`bench=all`): each prints a `bench:` line with
//! the median, 90th percentile and minimum of its samples, in time-stamp
//! counter ticks. `cargo xtask bench` boots with QEMU's `-icount shift=0`,
//! under which a tick is one guest instruction, the same on any host.
//!
//! The user-side figures (system calls from ring 3, requests to the trusted
//! address space and calls between its servers) come from the `bench` user
//! program, the IPC round trips from `ping` and `slowping`, which print the
//! same kind of line; the kernel checks with its counters that each round
//! trip took the path it is named for.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use kernel_logic::layout::SCRATCH_START;

use crate::exit::{exit_qemu, QemuExit};
use crate::thread::{self, ipc, FaultPolicy};
use crate::usermode::{run_user, run_user_with, UserExit, UserProgram};
use crate::{kprintln, ramdisk, time};

/// Samples per benchmark: odd, so the median is one sample.
const SAMPLES: usize = 1001;
/// Samples of the slow benchmarks (a whole process each).
const PROCESS_SAMPLES: usize = 101;

core::arch::global_asm!(
    ".pushsection .rodata.lazarus_bench_programs, \"a\"",
    ".global lazarus_bench_exit0",
    "lazarus_bench_exit0:",
    "    xor edi, edi",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    ".global lazarus_bench_exit0_end",
    "lazarus_bench_exit0_end:",
    ".popsection",
    exit = const lazarus_abi::Syscall::Exit as u64,
);

fn exit0_program() -> &'static [u8] {
    unsafe extern "C" {
        static lazarus_bench_exit0: u8;
        static lazarus_bench_exit0_end: u8;
    }
    let (s, e) = (&raw const lazarus_bench_exit0, &raw const lazarus_bench_exit0_end);
    // SAFETY: the two labels delimit the program in read-only data.
    unsafe { core::slice::from_raw_parts(s, e as usize - s as usize) }
}

fn report(name: &str, mut samples: Vec<u64>) {
    samples.sort_unstable();
    let n = samples.len();
    kprintln!("bench: {name} median={} p90={} min={} samples={n}", samples[n / 2], samples[n * 9 / 10], samples[0]);
}

fn measure(name: &str, count: usize, mut op: impl FnMut()) {
    for _ in 0..count.min(50) {
        op();
    }
    let samples = (0..count)
        .map(|_| {
            let t0 = time::tsc();
            op();
            time::tsc() - t0
        })
        .collect();
    report(name, samples);
}

/// Two threads taking turns: each sample is one yield that switches to the
/// other thread and back, so half of it is one switch.
fn thread_switch() {
    static STOP: AtomicBool = AtomicBool::new(false);
    STOP.store(false, Ordering::SeqCst);
    let partner = thread::spawn("bench-partner", FaultPolicy::Panic, || {
        while !STOP.load(Ordering::SeqCst) {
            thread::yield_now();
        }
    })
    .expect("spawn");
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES + 50 {
        let t0 = time::tsc();
        thread::yield_now();
        let dt = time::tsc() - t0;
        if i >= 50 {
            samples.push(dt / 2);
        }
    }
    STOP.store(true, Ordering::SeqCst);
    partner.join().expect("partner ends");
    report("thread_switch", samples);
}

/// Round trips `ping` and `slowping` each make (`user/ping`'s `SAMPLES`).
const PING_CALLS: u64 = 1001;

/// IPC transfers the kernel counted (`ipc::counters`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Transfers {
    /// By the fast path.
    fast: u64,
    /// Of those, the ones that resumed the receiver straight into ring 3.
    direct: u64,
    /// By the slow path.
    slow: u64,
}

impl Transfers {
    fn now() -> Self {
        let (fast, slow) = ipc::counters();
        Transfers { fast, direct: ipc::direct_transfers(), slow }
    }

    fn since(self, before: Transfers) -> Self {
        Transfers { fast: self.fast - before.fast, direct: self.direct - before.direct, slow: self.slow - before.slow }
    }
}

/// The program `client` calls the `echo` server (two processes, one
/// endpoint) and prints its own `bench:` line for the round trip, user to
/// user. The transfers made meanwhile, checked against `expected`: a
/// `bench:` line says so if the round trips took another path (or failed).
fn ipc_round_trips(client: &str, path: &str, expected: Transfers) {
    let (Ok(Some(echo)), Ok(Some(image))) = (ramdisk::program("echo"), ramdisk::program(client)) else {
        kprintln!("bench: no 'echo' or '{client}' program in the ramdisk");
        return;
    };
    let ep = ipc::create_endpoint();
    let server_handle = ipc::handle(ep);
    let server = thread::spawn("echo", FaultPolicy::Panic, move || {
        run_user_with(UserProgram::Elf(echo), &[server_handle])
    })
    .expect("spawn");
    // Let the server reach its first `recv`, so calls find it waiting.
    thread::sleep_ms(50);
    let before = Transfers::now();
    let exit = run_user_with(UserProgram::Elf(image), &[ipc::handle(ep)]);
    let during = Transfers::now().since(before);
    let server_exit = server.join();
    if !matches!(exit, Ok(UserExit::Exited(0))) || !matches!(server_exit, Ok(Ok(UserExit::Exited(0)))) {
        kprintln!("bench: the {client} round trips failed: {exit:?}, echo {server_exit:?}");
    }
    kprintln!(
        "ipc transfers during the {path} round trips ({client}): {} fast path ({} of them direct), {} slow path",
        during.fast,
        during.direct,
        during.slow
    );
    if during != expected {
        kprintln!("bench: the {client} round trips did not take the {path}: {during:?}, expected {expected:?}");
    }
}

/// Round trips user to user on the fast path (`ping`) and on the slow
/// path (`slowping`, whose calls carry a timeout).
fn ipc_round_trip() {
    // Every call (the stop call too) and every reply on the fast path, and
    // all but the first resume their peer straight into ring 3: the first
    // call finds echo blocked in `recv` (the slow path's kind of block).
    let fast = Transfers { fast: 2 * PING_CALLS + 1, direct: 2 * PING_CALLS, slow: 0 };
    ipc_round_trips("ping", "fast path", fast);
    // A call with a timeout always takes the slow path (the dispatcher, a
    // deadline, the scheduler's hand-off to echo). The reply finds the
    // caller waiting alone and goes by the fast path, but never directly:
    // the caller blocked in the slow path, and resumes in its kernel code.
    let slow = Transfers { fast: PING_CALLS, direct: 0, slow: PING_CALLS + 1 };
    ipc_round_trips("slowping", "slow path", slow);
}

/// Runs the benchmarks named by `spec` (`all`) and exits QEMU.
pub fn run(spec: &str) -> ! {
    if spec != "all" {
        kprintln!("bench: unknown set '{spec}' (only 'all')");
        exit_qemu(QemuExit::Failure);
    }
    // The user benchmarks time requests to the TAS and its restarts too.
    let service = ipc::create_endpoint();
    crate::system::start_tas(service);
    match ramdisk::program("bench") {
        // Handle 1: an endpoint of its own, for the grant round.
        Ok(Some(image)) => match run_user_with(UserProgram::Elf(image), &[ipc::handle(service), ipc::handle(ipc::create_endpoint())]) {
            Ok(UserExit::Exited(0)) => {}
            other => kprintln!("bench: the user benchmarks failed: {other:?}"),
        },
        _ => kprintln!("bench: no 'bench' program in the ramdisk"),
    }
    ipc_round_trip();
    thread_switch();
    measure("process_create_run_exit", PROCESS_SAMPLES, || {
        let exit = run_user(UserProgram::Code(exit0_program()));
        assert!(matches!(exit, Ok(UserExit::Exited(0))));
    });
    measure("fault_to_boundary_panic", SAMPLES, || {
        assert!(unwind::catch(|| panic!("bench")).is_err());
    });
    // Unmapped: the scratch area's upper half is never mapped.
    let unmapped = SCRATCH_START + (512 << 20);
    measure("fault_to_boundary_page_fault", SAMPLES, || {
        // SAFETY: faults on purpose; the boundary catches it.
        assert!(unwind::catch(|| unsafe { unwind::fallible::read_u64(unmapped) }).is_err());
    });
    kprintln!("bench: end");
    exit_qemu(QemuExit::Success)
}
