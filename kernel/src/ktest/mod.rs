//! In-kernel tests: named cases in groups, run when the kernel boots with
//! `test=GROUP`, reported on the serial console for the host harness in
//! `tests/`.

mod blk;
mod double_fault;
mod interrupts;
mod ipc;
mod kernel_panic;
mod memory;
mod process_memory;
mod recovery;
mod runner;
mod selftest;
mod services;
mod shell;
mod storage;
mod tas;
mod threads;
mod tlb;
mod trigger;
mod unwind;
mod user;
mod user_threads;

pub use runner::{expect_fatal, on_kernel_panic, run};

/// One test case: passes if it returns, fails if it panics.
pub struct Case {
    /// Name, unique in its group.
    pub name: &'static str,
    /// The test.
    pub run: fn(),
}

/// A set of cases run in one boot, in order.
pub struct Group {
    /// Name, given as `test=NAME`.
    pub name: &'static str,
    /// The cases.
    pub cases: &'static [Case],
}

/// Every group, in the order `test=list` prints them.
pub static GROUPS: &[&Group] = &[
    &memory::GROUP,
    &interrupts::GROUP,
    &threads::GROUP,
    &unwind::GROUP,
    &user::GROUP,
    &user_threads::GROUP,
    &tlb::GROUP,
    &ipc::GROUP,
    &tas::GROUP,
    &recovery::GROUP,
    &shell::GROUP,
    &blk::GROUP,
    &storage::GROUP,
    &storage::PERSIST_WRITE,
    &storage::PERSIST_VERIFY,
    &double_fault::GROUP,
    &kernel_panic::GROUP,
    &selftest::FAIL,
    &selftest::HANG,
];
