//! The file server across restarts: what it keeps, what an injected fault at each site leaves, and bit flips in its kept region.

mod common;

use common::*;
use fs_server::{sites, FileServer};
use server_api::ops::fs::{OPEN_CREATE, OPEN_EXCLUSIVE};
use server_harness::{check_double_flips, check_faults_at_every_site, check_single_flips};
use server_api::{FsOp, InitNote, Payload, Request, Status};

/// A server with some files, some of them open.
fn populated() -> (Fs, u16, u16) {
    let mut fs = Fs::start();
    let log = create(&mut fs, "log");
    write(&mut fs, log, 0, b"first line\nsecond line\n").unwrap();
    let empty = create(&mut fs, "empty");
    let closed = create(&mut fs, "closed.bin");
    write(&mut fs, closed, 0, &[0xAB; 40]).unwrap();
    close(&mut fs, closed).unwrap();
    (fs, log, empty)
}


#[test]
fn the_first_start_formats_the_region() {
    let fs = Fs::start();
    assert_eq!(fs.note(), InitNote::Formatted);
}

#[test]
fn files_and_open_handles_survive_a_restart() {
    let (mut fs, log, empty) = populated();
    let before = fs.state();
    assert_eq!(fs.restart(), InitNote::Restored { corrected: 0 });
    assert_eq!(fs.state(), before);
    assert_eq!(read_all(&mut fs, log).unwrap(), b"first line\nsecond line\n");
    write(&mut fs, empty, 0, b"now written").unwrap();
    assert_eq!(list(&mut fs).len(), 3);
    fs.restart();
    assert_eq!(read_all(&mut fs, empty).unwrap(), b"now written");
    close(&mut fs, log).unwrap();
    fs.restart();
    assert_eq!(size(&mut fs, log), Err(Status::BadHandle), "a close is kept too");
}

/// Requests touching every operation, in an order where each makes sense.
/// Handles are those the server hands out (entry index, tag in bits 5+).
fn script() -> Vec<Request> {
    let a = 1 << 5; // entry 0, first opening
    let b = (1 << 5) | 1; // entry 1, first opening
    let a_again = 2 << 5; // entry 0, second opening
    let c = (2 << 5) | 1; // entry 1, second opening
    vec![
        request(FsOp::Open, OPEN_CREATE, name("a")),
        write_request(a, 0, b"hello"),
        request(FsOp::Open, OPEN_CREATE | OPEN_EXCLUSIVE, name("b")),
        write_request(b, 0, b"0123456789abcdef"),
        write_request(b, 16, b"more"),
        request(FsOp::Read, a, Payload::word(0)),
        request(FsOp::List, 1, Payload::EMPTY),
        request(FsOp::Close, a, Payload::EMPTY),
        request(FsOp::Open, 0, name("a")),
        request(FsOp::Remove, 0, name("b")),
        write_request(a_again, 3, b"p!"),
        request(FsOp::Stat, 0, name("a")),
        request(FsOp::Open, OPEN_CREATE, name("c")),
        request(FsOp::Size, c, Payload::EMPTY),
        request(FsOp::Close, a_again, Payload::EMPTY),
    ]
}

#[test]
fn the_script_runs_clean_without_faults() {
    let mut fs = Fs::start();
    for request in script() {
        assert!(fs.request(&request).is_ok(), "{request:?}");
    }
}

/// A fault at any site, on any of its hits, leaves the kept state as it
/// was before the faulting request or as it is after it. The two sites
/// between the two slot writes of an operation leave the first write done
/// (their own tests below), which the restore's consistency checks accept.
#[test]
fn a_fault_at_any_site_leaves_the_state_before_or_after_the_request() {
    let fired = check_faults_at_every_site::<FileServer>(&script(), 20, &[sites::CREATED, sites::REMOVE]);
    assert!(fired >= sites::COUNT as usize * 2, "{fired} faults fired");
}

#[test]
fn a_fault_between_creating_and_opening_leaves_the_file_without_a_handle() {
    let mut fs = Fs::start();
    fs.env.arm(sites::CREATED, 0);
    assert_eq!(fs.call(&request(FsOp::Open, OPEN_CREATE, name("new"))).status, Status::ServerFault);
    assert_eq!(list(&mut fs), [("new".to_string(), 0)]);
    assert_eq!(size(&mut fs, 1 << 5), Err(Status::BadHandle), "no handle was kept");
    assert!(open(&mut fs, "new", OPEN_CREATE).is_ok(), "a retry opens it");
}

#[test]
fn a_fault_between_closing_handles_and_erasing_leaves_the_file_without_handles() {
    let (mut fs, log, _) = populated();
    fs.env.arm(sites::REMOVE, 0);
    assert_eq!(remove(&mut fs, "log"), Err(Status::ServerFault));
    assert_eq!(stat(&mut fs, "log"), Ok(23), "the file is still there");
    assert_eq!(size(&mut fs, log), Err(Status::BadHandle), "its handles are closed");
    assert_eq!(remove(&mut fs, "log"), Ok(()), "a retry removes it");
}

#[test]
fn a_write_interrupted_before_the_store_is_retried_by_the_client() {
    let (mut fs, log, _) = populated();
    fs.env.arm(sites::WRITE, 0);
    assert_eq!(fs.call(&write_request(log, 0, b"FIRST")).status, Status::ServerFault);
    assert_eq!(read_at(&mut fs, log, 0).unwrap()[..5], *b"first", "the write was not kept");
    write(&mut fs, log, 0, b"FIRST").unwrap();
    assert_eq!(read_at(&mut fs, log, 0).unwrap()[..5], *b"FIRST");
}

#[test]
fn a_single_flipped_bit_anywhere_is_corrected_and_counted() {
    let (fs, _, _) = populated();
    check_single_flips::<FileServer>(&fs.env.kept);
}

#[test]
fn a_double_flip_in_a_word_that_is_read_formats_and_starts_clean() {
    let (fs, _, _) = populated();
    let detected = check_double_flips::<FileServer>(&fs.env.kept);
    // Every written slot's current copy: its header and payload words.
    assert!(detected > 40, "{detected} words detected");
    let superblock = Fs::start_flipped(&fs.env.kept, 0, 0b11);
    assert_eq!(superblock.note(), InitNote::DamagedFormatted);
}

#[test]
fn after_damage_the_server_starts_clean_and_keeps_again() {
    let (fs, _, _) = populated();
    let mut fs = Fs::start_flipped(&fs.env.kept, 0, 0b101);
    assert_eq!(fs.note(), InitNote::DamagedFormatted);
    let h = create(&mut fs, "fresh");
    write(&mut fs, h, 0, b"new life").unwrap();
    assert_eq!(fs.restart(), InitNote::Restored { corrected: 0 });
    assert_eq!(read_all(&mut fs, h).unwrap(), b"new life");
}

#[test]
fn damage_under_a_running_instance_is_a_fault_then_a_clean_start() {
    let (mut fs, log, _) = populated();
    fs.env.kept[0] ^= 0b11;
    assert_eq!(fs.call(&write_request(log, 0, b"x")).status, Status::ServerFault);
    assert_eq!(fs.note(), InitNote::DamagedFormatted);
    assert_eq!(size(&mut fs, log), Err(Status::BadHandle));
}
