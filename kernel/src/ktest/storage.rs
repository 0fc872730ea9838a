//! The disk server and the files on the disk, end to end. `storage`: a
//! fresh TAS owns the blank scratch disk; `user/recoverytest` checks the
//! disk server, the file server's write-through and the recovery of every
//! fault in the disk server (`storage.rs` of that program); then the
//! kernel checks from its own books that the disk's owner holds exactly
//! one region of device memory after all those restarts.
//!
//! `persist_write` and `persist_verify` are the two boots of the reboot
//! test: the host boots them one after the other on one disk file
//! (`tests/tests/qemu.rs`), the first writing files, the second reading
//! them back. They are not run as ordinary groups: alone, each would meet
//! a blank scratch disk.

use super::services;
use super::{Case, Group};
use crate::device::{owner_of, pci};
use crate::memory::dma;
use crate::usermode::UserExit;

/// The group.
pub static GROUP: Group = Group {
    name: "storage",
    cases: &[
        Case { name: "fs_formats_the_blank_disk_blk_found", run: || check(0) },
        Case { name: "fs_writes_each_change_through_to_the_disk", run: || check(1) },
        Case { name: "every_fault_kind_in_blk_is_recovered_with_its_device_memory", run: || check(2) },
        Case { name: "a_blk_fault_in_flight_is_recovered_and_the_write_goes_through", run: || check(3) },
        Case { name: "the_disk_owner_holds_one_region_of_device_memory", run: one_region_held },
    ],
};

/// The first boot of the reboot test.
pub static PERSIST_WRITE: Group = Group {
    name: "persist_write",
    cases: &[Case { name: "files_are_written_to_a_blank_disk", run: || persist(0) }],
};

/// The second boot of the reboot test.
pub static PERSIST_VERIFY: Group = Group {
    name: "persist_verify",
    cases: &[
        Case { name: "the_files_written_before_the_reboot_are_read_back", run: || persist(0) },
        Case { name: "a_blk_fault_gives_its_device_memory_back", run: || persist(1) },
    ],
};

/// Virtio's vendor id and the transitional block device's id.
const VIRTIO: u16 = 0x1AF4;
const VIRTIO_BLK: u16 = 0x1001;
/// The device memory the disk server holds: a queue of 256 entries
/// (12 KiB) and a page for the request in flight.
const BLK_DMA_BYTES: u64 = 16 << 10;

/// How the `recoverytest` run of the `storage` group ended.
static CHECKS: spin::Once<UserExit> = spin::Once::new();
/// How the `recoverytest` run of a reboot-test boot ended.
static PERSIST: spin::Once<UserExit> = spin::Once::new();

/// Check `bit` of the storage checks (`user/recoverytest/src/storage.rs`,
/// in the same order as the cases above).
fn check(bit: u32) {
    services::check(&CHECKS, bit);
}

/// Check `bit` of a reboot-test boot (`user/recoverytest/src/persist.rs`).
fn persist(bit: u32) {
    services::check(&PERSIST, bit);
}

/// After the storage checks (eight faults of the disk server and one in
/// flight, each followed by a new instance that takes device memory of
/// its own), the kernel's DMA table holds exactly one region for the
/// disk's owner: every faulted instance's memory was given back.
fn one_region_held() {
    check(0);
    let disk = pci::find(Some(VIRTIO), Some(VIRTIO_BLK), 0).expect("the harness attaches a virtio disk");
    let owner = owner_of(disk.address).expect("the trusted address space owns the disk");
    assert_eq!(dma::bytes_held(owner), BLK_DMA_BYTES, "device memory held by the disk's owner after every recovery");
}
