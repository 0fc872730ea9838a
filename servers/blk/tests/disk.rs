//! The disk server over a disk in memory: what it answers, what a fault in flight or a discarded instance leaves, and its device-memory books.

use blk_server::{sites, BlkServer};
use server_api::ops::blk::{BlkBooks, DiskInfo, SECTORS_PER_CALL_MAX, SECTOR_BYTES};
use server_api::{BlkOp, InitNote, Payload, Request, ServerId, Status};
use server_harness::{check_double_flips, check_single_flips, DiskHandle, Harness, MemoryDisk, MEMORY_DISK_DMA_BYTES};

type Blk = Harness<BlkServer<MemoryDisk>>;

/// Sectors of the test disk: the in-QEMU scratch disk's 1 MiB.
const SECTORS: u64 = 2048;

fn request(op: BlkOp, first: u64) -> Request {
    Request::new(ServerId::Blk, op as u8, 0).with(Payload::word(first))
}

/// `count` sectors of a pattern that names each sector.
fn pattern(first: u64, count: usize) -> Vec<u8> {
    (0..count * SECTOR_BYTES).map(|i| (first as usize * 7 + i / SECTOR_BYTES * 13 + i) as u8).collect()
}

fn write(blk: &mut Blk, first: u64, data: &[u8]) -> Result<Payload, Status> {
    blk.call_lending(&request(BlkOp::Write, first), &mut data.to_vec()).into_result()
}

fn read(blk: &mut Blk, first: u64, count: usize) -> Result<Vec<u8>, Status> {
    let mut buffer = vec![0; count * SECTOR_BYTES];
    blk.call_lending(&request(BlkOp::Read, first), &mut buffer).into_result().map(|_| buffer)
}

fn books(blk: &mut Blk) -> BlkBooks {
    BlkBooks::decode(&blk.request(&request(BlkOp::Books, 0)).unwrap())
}

fn console(blk: &Blk) -> String {
    String::from_utf8_lossy(&blk.env.console).into_owned()
}

#[test]
fn with_no_disk_it_runs_and_answers_no_device() {
    DiskHandle::detach();
    let mut blk = Blk::start();
    assert_eq!(blk.note(), InitNote::Formatted);
    assert!(console(&blk).contains("blk: no legacy virtio-blk device: answering NoDevice"), "{}", console(&blk));
    assert_eq!(blk.request(&request(BlkOp::Info, 0)), Err(Status::NoDevice));
    assert_eq!(read(&mut blk, 0, 1), Err(Status::NoDevice));
    assert_eq!(blk.request(&request(BlkOp::Flush, 0)), Err(Status::NoDevice));
    assert_eq!(books(&mut blk), BlkBooks::default(), "no disk, no device memory");
}

#[test]
fn a_disk_another_process_holds_is_no_device() {
    let disk = DiskHandle::attach(SECTORS);
    disk.set_busy(true);
    let mut blk = Blk::start();
    assert_eq!(blk.request(&request(BlkOp::Info, 0)), Err(Status::NoDevice));
    assert!(console(&blk).contains("belongs to another process"), "{}", console(&blk));
    assert!(!disk.mapped());
}

#[test]
fn sectors_are_written_read_back_and_flushed() {
    let disk = DiskHandle::attach(SECTORS);
    let mut blk = Blk::start();
    let info = DiskInfo::decode(&blk.request(&request(BlkOp::Info, 0)).unwrap()).unwrap();
    assert_eq!(info, DiskInfo { capacity: SECTORS, queue_size: 256, flush: true });
    assert!(console(&blk).contains("blk: virtio disk of 2048 sectors (1024 KiB)"), "{}", console(&blk));
    let data = pattern(10, SECTORS_PER_CALL_MAX);
    assert_eq!(write(&mut blk, 10, &data), Ok(Payload::word(SECTORS_PER_CALL_MAX as u64)));
    assert_eq!(read(&mut blk, 10, SECTORS_PER_CALL_MAX).unwrap(), data, "read back from the cache");
    assert_eq!(disk.unflushed(), SECTORS_PER_CALL_MAX);
    assert_eq!(disk.medium(10), [0; SECTOR_BYTES], "not on the medium before the flush");
    blk.request(&request(BlkOp::Flush, 0)).unwrap();
    assert_eq!(disk.medium(11)[..], data[SECTOR_BYTES..2 * SECTOR_BYTES]);
    let moved = books(&mut blk);
    assert_eq!((moved.sectors_written, moved.sectors_read, moved.flushes), (8, 8, 1));
    assert_eq!((moved.dma_bytes, moved.regions_opened, moved.regions_held()), (16384, 1, Some(1)));
    assert_eq!(blk.env.sites_hit(), 3, "every site: in flight, done, and Books' entry");
}

#[test]
fn bad_requests_reach_no_sector() {
    let disk = DiskHandle::attach(SECTORS);
    let mut blk = Blk::start();
    assert_eq!(blk.request(&request(BlkOp::Read, 0)), Err(Status::BadRequest), "nothing lent: a user program");
    assert_eq!(blk.request(&request(BlkOp::Write, 0)), Err(Status::BadRequest));
    assert_eq!(write(&mut blk, 0, &[1; 100]), Err(Status::BadRequest), "not whole sectors");
    assert_eq!(write(&mut blk, SECTORS - 1, &pattern(0, 2)), Err(Status::BadRequest), "past the end");
    assert_eq!(read(&mut blk, SECTORS, 1), Err(Status::BadRequest));
    assert_eq!(read(&mut blk, 0, SECTORS_PER_CALL_MAX + 1), Err(Status::BadRequest), "too many at once");
    let unknown = Request::new(ServerId::Blk, 200, 0);
    assert_eq!(blk.request(&unknown), Err(Status::BadRequest));
    assert_eq!(disk.writes(), 0);
    assert_eq!(books(&mut blk).sectors_read, 0);
}

#[test]
fn a_failing_disk_is_a_disk_error_logged() {
    let disk = DiskHandle::attach(SECTORS);
    let mut blk = Blk::start();
    disk.set_failing(true);
    assert_eq!(write(&mut blk, 3, &pattern(3, 1)), Err(Status::DiskError));
    assert_eq!(read(&mut blk, 3, 1), Err(Status::DiskError));
    assert_eq!(blk.request(&request(BlkOp::Flush, 0)), Err(Status::DiskError));
    let log = console(&blk);
    assert!(log.contains("blk: the disk failed a write of sector 3: the device failed the request (status 1)"), "{log}");
    assert_eq!(blk.generation(), 1, "a disk error is no fault of the server");
    disk.set_failing(false);
    assert!(write(&mut blk, 3, &pattern(3, 1)).is_ok());
}

#[test]
fn a_fault_in_flight_is_released_by_unwinding_and_the_disk_works_after() {
    let disk = DiskHandle::attach(SECTORS);
    let mut blk = Blk::start();
    let data = pattern(20, 2);
    blk.env.arm(sites::IN_FLIGHT, 1);
    let faulted = blk.call_lending(&request(BlkOp::Write, 20), &mut data.clone());
    assert_eq!((faulted.status, faulted.generation), (Status::ServerFault, 1), "the second sector's request faulted");
    assert_eq!(blk.generation(), 2);
    assert!(disk.mapped(), "the new instance holds device memory of its own");
    let after = books(&mut blk);
    assert_eq!((after.regions_opened, after.released_by_unwinding, after.reclaimed_by_backstop), (2, 1, 0));
    assert_eq!(after.regions_held(), Some(1));
    // The caller sends the write again: it is idempotent.
    assert!(write(&mut blk, 20, &data).is_ok());
    assert_eq!(read(&mut blk, 20, 2).unwrap(), data);
}

#[test]
fn a_discarded_instance_leaves_its_device_memory_to_the_backstop() {
    let disk = DiskHandle::attach(SECTORS);
    let mut blk = Blk::start();
    assert!(write(&mut blk, 1, &pattern(1, 1)).is_ok());
    blk.restart_discarding();
    let after = books(&mut blk);
    assert_eq!((after.regions_opened, after.released_by_unwinding, after.reclaimed_by_backstop), (2, 0, 1));
    assert_eq!((after.dma_bytes, after.regions_held()), (MEMORY_DISK_DMA_BYTES as u32, Some(1)));
    assert!(console(&blk).contains("blk: reset the disk and freed the device memory a discarded instance left"));
    assert_eq!(read(&mut blk, 1, 1).unwrap(), pattern(1, 1), "the disk works after it");
    drop(blk);
    assert!(!disk.mapped(), "dropped, the last instance gave its memory back");
}

#[test]
fn the_books_survive_restarts_and_bit_flips() {
    DiskHandle::attach(SECTORS);
    let mut blk = Blk::start();
    blk.restart();
    blk.restart_discarding();
    // The restarts below find no disk: they change no books.
    DiskHandle::detach();
    blk.restart();
    let region = blk.env.kept.clone();
    assert_eq!(books(&mut blk).regions_held(), Some(0));
    check_single_flips::<BlkServer<MemoryDisk>>(&region);
    assert!(check_double_flips::<BlkServer<MemoryDisk>>(&region) > 0);
}
