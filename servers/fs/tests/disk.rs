//! The file server on a disk: formatted, loaded after a reboot, written through change by change, and what faults of either server and a failing disk leave on it.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use blk_server::{sites as blk_sites, BlkServer};
use common::*;
use fs_server::{sites, FileServer};
use server_api::ops::blk::{BlkBooks, SECTOR_BYTES};
use server_api::{BlkOp, FsOp, Payload, Request, ServerId, Status};
use server_harness::{Callee, DiskHandle, Harness, MemoryDisk, TestEnv};

type Blk = Harness<BlkServer<MemoryDisk>>;

/// Sectors of the test disk: the in-QEMU scratch disk's 1 MiB.
const SECTORS: u64 = 2048;
/// Sectors the file server's header and image take.
const FS_SECTORS: u64 = 24;

/// A machine: the disk server over the disk attached to this thread, and
/// a file server that calls it, both at their first start.
struct Machine {
    fs: Fs,
    blk: Rc<RefCell<Blk>>,
}

impl Machine {
    fn boot() -> Self {
        let blk = Rc::new(RefCell::new(Blk::start()));
        let mut env = TestEnv::for_server::<FileServer>();
        env.callee = Some(Callee::to(ServerId::Blk, Rc::clone(&blk)));
        Machine { fs: Fs::start_in(env), blk }
    }

    /// The file server's log lines.
    fn log(&self) -> String {
        String::from_utf8_lossy(&self.fs.env.console).into_owned()
    }

    fn blk_books(&self) -> BlkBooks {
        let request = Request::new(ServerId::Blk, BlkOp::Books as u8, 0);
        BlkBooks::decode(&self.blk.borrow_mut().request(&request).unwrap())
    }
}

/// Files and their contents, through the file server.
fn files(fs: &mut Fs) -> Vec<(String, Vec<u8>)> {
    snapshot(fs)
}

/// Two files, one left open, one closed.
fn populate(fs: &mut Fs) -> u16 {
    let open_one = create(fs, "notes");
    write(fs, open_one, 0, b"written before the reboot, kept on the disk").unwrap();
    let closed = create(fs, "data.bin");
    write(fs, closed, 0, &[0x5A; 40]).unwrap();
    close(fs, closed).unwrap();
    open_one
}

#[test]
fn files_survive_a_reboot() {
    let disk = DiskHandle::attach(SECTORS);
    let mut first = Machine::boot();
    let handle = populate(&mut first.fs);
    let before = files(&mut first.fs);
    assert!(first.log().contains("fs: formatted the disk: a header and an image of 23 sectors"), "{}", first.log());
    assert_eq!(disk.unflushed(), 0, "every change was flushed before its reply");

    let disk = disk.after_power_cut();
    let mut second = Machine::boot();
    assert_eq!(files(&mut second.fs), before);
    assert!(second.log().contains("fs: loaded the disk: 2 files, as they were"), "{}", second.log());
    assert_eq!(size(&mut second.fs, handle), Err(Status::BadHandle), "the last boot's handles are closed");
    assert_eq!(disk.medium(0)[..8], *b"LZFSDISK");
}

#[test]
fn each_change_writes_the_sectors_it_changed_and_a_read_writes_nothing() {
    let disk = DiskHandle::attach(SECTORS);
    let mut machine = Machine::boot();
    let h = create(&mut machine.fs, "f");
    let (writes, flushes) = (disk.writes(), disk.flushes());
    write(&mut machine.fs, h, 0, b"sixteen bytes!!!").unwrap();
    let written = disk.writes() - writes;
    assert!((1..=2).contains(&written), "one slot copy changed: {written} sectors");
    assert_eq!(disk.flushes() - flushes, 1);
    let (writes, flushes) = (disk.writes(), disk.flushes());
    read_all(&mut machine.fs, h).unwrap();
    list(&mut machine.fs);
    assert_eq!((disk.writes(), disk.flushes()), (writes, flushes));
}

#[test]
fn a_restart_of_the_file_server_does_not_read_the_disk_again() {
    let disk = DiskHandle::attach(SECTORS);
    let mut machine = Machine::boot();
    let h = populate(&mut machine.fs);
    let read = machine.blk_books().sectors_read;
    let written = disk.writes();
    machine.fs.restart();
    write(&mut machine.fs, h, 0, b"W").unwrap();
    assert_eq!(machine.blk_books().sectors_read, read, "no sector read");
    assert!(disk.writes() > written, "the change went to the disk");
    let before = files(&mut machine.fs);
    disk.after_power_cut();
    assert_eq!(files(&mut Machine::boot().fs), before);
}

#[test]
fn with_no_disk_the_files_live_in_memory() {
    DiskHandle::detach();
    let mut machine = Machine::boot();
    populate(&mut machine.fs);
    assert!(machine.log().contains("fs: no disk (no device: there is no disk"), "{}", machine.log());
    assert_eq!(list(&mut machine.fs).len(), 2);
    machine.fs.restart();
    assert_eq!(list(&mut machine.fs).len(), 2, "kept across a restart all the same");
}

#[test]
fn a_disk_with_a_damaged_or_newer_header_or_too_small_is_left_alone() {
    let mut header = [0u8; SECTOR_BYTES];
    header[..8].copy_from_slice(b"LZFSDISK");
    for (sectors, says) in [
        (SECTORS, "fs: the disk holds a damaged header (its checksum does not match)"),
        (FS_SECTORS - 1, "fs: the disk has 23 sectors, the file server needs 24"),
    ] {
        let disk = DiskHandle::attach(sectors);
        disk.set_medium(0, header);
        let mut machine = Machine::boot();
        populate(&mut machine.fs);
        assert!(machine.log().contains(says), "{}", machine.log());
        assert_eq!(disk.writes(), 0, "nothing written");
        assert_eq!(list(&mut machine.fs).len(), 2, "the files live in memory");
    }
}

#[test]
fn a_fault_of_the_disk_server_in_flight_is_recovered_and_the_change_reaches_the_disk() {
    let disk = DiskHandle::attach(SECTORS);
    let mut machine = Machine::boot();
    let h = create(&mut machine.fs, "f");
    machine.blk.borrow_mut().env.arm(blk_sites::IN_FLIGHT, 0);
    assert_eq!(write(&mut machine.fs, h, 0, b"through a fault"), Ok(15), "fs sent it again to the new instance");
    assert_eq!(machine.blk.borrow().generation(), 2);
    let books = machine.blk_books();
    assert_eq!((books.released_by_unwinding, books.regions_held()), (1, Some(1)));
    disk.after_power_cut();
    let mut after = Machine::boot();
    let h = open(&mut after.fs, "f", 0).unwrap();
    assert_eq!(read_all(&mut after.fs, h).unwrap(), b"through a fault");
}

#[test]
fn a_failing_disk_answers_disk_error_keeps_the_change_and_catches_up() {
    let disk = DiskHandle::attach(SECTORS);
    let mut machine = Machine::boot();
    let h = create(&mut machine.fs, "f");
    disk.set_failing(true);
    assert_eq!(write(&mut machine.fs, h, 0, b"first"), Err(Status::DiskError));
    assert_eq!(read_all(&mut machine.fs, h).unwrap(), b"first", "kept in memory");
    assert!(machine.log().contains("fs: the disk did not take a change"), "{}", machine.log());
    // The pending sectors are kept too: a restart still knows.
    machine.fs.restart();
    disk.set_failing(false);
    let other = create(&mut machine.fs, "g");
    write(&mut machine.fs, other, 0, b"second").unwrap();
    let before = files(&mut machine.fs);
    disk.after_power_cut();
    assert_eq!(files(&mut Machine::boot().fs), before, "both changes are on the disk");
}

#[test]
fn the_disk_cannot_be_reached_at_first_so_the_request_waits() {
    let disk = DiskHandle::attach(SECTORS);
    disk.set_failing(true);
    let mut machine = Machine::boot();
    assert_eq!(open(&mut machine.fs, "f", server_api::ops::fs::OPEN_CREATE), Err(Status::DiskError));
    let listing = request(FsOp::List, 0, Payload::EMPTY);
    assert_eq!(machine.fs.request(&listing), Err(Status::DiskError), "not even a read: the disk may hold files");
    disk.set_failing(false);
    assert!(list(&mut machine.fs).is_empty(), "nothing was created");
    populate(&mut machine.fs);
    assert!(machine.log().contains("fs: formatted the disk"), "{}", machine.log());
}

#[test]
fn the_image_read_back_is_corrected_as_the_kept_region_is() {
    let disk = DiskHandle::attach(SECTORS);
    let mut machine = Machine::boot();
    populate(&mut machine.fs);
    let before = files(&mut machine.fs);
    let mut sector = disk.medium(5);
    sector[17] ^= 0x04;
    disk.set_medium(5, sector);
    let disk = disk.after_power_cut();
    let mut second = Machine::boot();
    assert_eq!(files(&mut second.fs), before);
    assert!(second.log().contains("with bit errors corrected"), "{}", second.log());
    // The next change rewrote the image: the flip is gone from the disk.
    assert_ne!(disk.medium(5), sector);

    // Two bits of the store's superblock: a clean start.
    let mut superblock = disk.medium(1);
    superblock[0] ^= 0b11;
    disk.set_medium(1, superblock);
    disk.after_power_cut();
    let mut third = Machine::boot();
    assert!(list(&mut third.fs).is_empty());
    assert!(third.log().contains("damaged beyond correction, a clean start"), "{}", third.log());
}

/// A fault at any site of the file server, on any of its first hits,
/// leaves the disk holding exactly the files the server holds once the
/// script has run to its end.
#[test]
fn after_a_fault_at_any_site_the_disk_holds_what_the_server_holds() {
    let script = [
        request(FsOp::Open, server_api::ops::fs::OPEN_CREATE, name("a")),
        write_request(1 << 5, 0, b"0123456789abcdef"),
        request(FsOp::Open, server_api::ops::fs::OPEN_CREATE, name("b")),
        write_request((1 << 5) | 1, 8, b"tail"),
        request(FsOp::Read, 1 << 5, Payload::word(0)),
        request(FsOp::List, 0, Payload::EMPTY),
        request(FsOp::Close, 1 << 5, Payload::EMPTY),
        request(FsOp::Remove, 0, name("a")),
    ];
    let mut fired = 0;
    for site in 0..sites::COUNT {
        for skip in 0..3 {
            let disk = DiskHandle::attach(SECTORS);
            let mut machine = Machine::boot();
            machine.fs.env.arm(site, skip);
            for request in &script {
                let status = machine.fs.call(request).status;
                assert_ne!(status, Status::DiskError, "site {site} skip {skip}: {request:?}");
            }
            fired += usize::from(!machine.fs.env.armed());
            machine.fs.env.disarm();
            let held = files(&mut machine.fs);
            disk.after_power_cut();
            assert_eq!(files(&mut Machine::boot().fs), held, "site {site} skip {skip}");
        }
    }
    assert!(fired >= sites::COUNT as usize, "{fired} faults fired");
}
