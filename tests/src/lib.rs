//! Lazarus in-QEMU test harness, host side: boots the kernel and reads its verdicts.
//!
//! The kernel runs its own test groups inside QEMU and reports them on COM1 with
//! `ktest:` lines; this crate starts QEMU (the one place its command line is
//! built, which `cargo xtask run` reuses), reads the serial console, and turns
//! it into one typed result per test case. The integration test
//! `tests/qemu.rs` makes one libtest trial per guest case out of it.
//!
//! Design principles:
//! - Pure where it can be: the protocol parser, the verdicts, the QEMU argument
//!   list and the settings are plain functions with host unit tests; only
//!   `runner` touches processes.
//! - No QEMU is left behind: every child is killed on timeout, on `Drop` (so
//!   also when the runner panics), and on Linux when the runner itself dies.
//! - A crash, a hang or a wrong exit status is a failure that says what was
//!   seen and where the full serial log is, never a panic of the harness.

pub mod config;
pub mod protocol;
pub mod qemu;
pub mod runner;
