//! The file server's operations: create, write, read, list, remove, sizes, and their limits.

mod common;

use common::*;
use server_api::ops::fs::{FILES_MAX, FILE_BYTES_MAX, HANDLES_MAX, OPEN_CREATE, OPEN_EXCLUSIVE};
use server_api::{FsOp, Payload, Status};

#[test]
fn a_file_is_created_written_read_and_listed() {
    let mut fs = Fs::start();
    let h = create(&mut fs, "notes.txt");
    assert_eq!(write(&mut fs, h, 0, b"hello, file server"), Ok(18));
    assert_eq!(size(&mut fs, h), Ok(18));
    assert_eq!(read_all(&mut fs, h).unwrap(), b"hello, file server");
    assert_eq!(read_at(&mut fs, h, 7).unwrap(), b"file server");
    assert_eq!(stat(&mut fs, "notes.txt"), Ok(18));
    assert_eq!(list(&mut fs), [("notes.txt".to_string(), 18)]);
}

#[test]
fn overwrites_and_writes_past_the_end() {
    let mut fs = Fs::start();
    let h = create(&mut fs, "f");
    write(&mut fs, h, 0, b"abcdef").unwrap();
    write(&mut fs, h, 2, b"XY").unwrap();
    assert_eq!(write(&mut fs, h, 10, b"!"), Ok(11));
    assert_eq!(read_all(&mut fs, h).unwrap(), b"abXYef\0\0\0\0!");
}

#[test]
fn open_flags_decide_between_creating_opening_and_refusing() {
    let mut fs = Fs::start();
    assert_eq!(open(&mut fs, "a", 0), Err(Status::NotFound));
    let first = open(&mut fs, "a", OPEN_CREATE).unwrap();
    let second = open(&mut fs, "a", OPEN_CREATE).unwrap();
    assert_ne!(first, second, "each open is its own handle");
    assert_eq!(open(&mut fs, "a", OPEN_CREATE | OPEN_EXCLUSIVE), Err(Status::Exists));
    assert!(open(&mut fs, "a", 0).is_ok());
    assert_eq!(open(&mut fs, "b", OPEN_EXCLUSIVE), Err(Status::BadRequest), "exclusive without create");
    assert_eq!(open(&mut fs, "b", 1 << 2), Err(Status::BadRequest), "unknown flag");
    assert_eq!(list(&mut fs).len(), 1);
}

#[test]
fn handles_see_each_others_writes_and_close_on_their_own() {
    let mut fs = Fs::start();
    let a = create(&mut fs, "shared");
    let b = open(&mut fs, "shared", 0).unwrap();
    write(&mut fs, a, 0, b"from a").unwrap();
    assert_eq!(read_all(&mut fs, b).unwrap(), b"from a");
    close(&mut fs, a).unwrap();
    assert_eq!(size(&mut fs, a), Err(Status::BadHandle));
    assert_eq!(close(&mut fs, a), Err(Status::BadHandle));
    assert_eq!(size(&mut fs, b), Ok(6));
}

#[test]
fn remove_deletes_the_file_and_closes_its_handles() {
    let mut fs = Fs::start();
    let h = create(&mut fs, "doomed");
    let other = create(&mut fs, "kept");
    write(&mut fs, h, 0, b"x").unwrap();
    remove(&mut fs, "doomed").unwrap();
    assert_eq!(stat(&mut fs, "doomed"), Err(Status::NotFound));
    assert_eq!(read_at(&mut fs, h, 0), Err(Status::BadHandle));
    assert_eq!(remove(&mut fs, "doomed"), Err(Status::NotFound));
    assert_eq!(size(&mut fs, other), Ok(0));
    // The name is free again, and the new file starts empty.
    let again = create(&mut fs, "doomed");
    assert_ne!(again, h);
    assert_eq!(size(&mut fs, again), Ok(0));
    assert_eq!(read_at(&mut fs, h, 0), Err(Status::BadHandle), "the old handle stays dead");
}

#[test]
fn list_walks_the_directory_and_ends_with_not_found() {
    let mut fs = Fs::start();
    for (i, file) in ["one", "two", "three"].iter().enumerate() {
        let h = create(&mut fs, file);
        write(&mut fs, h, 0, &vec![b'x'; i]).unwrap();
    }
    remove(&mut fs, "two").unwrap();
    assert_eq!(list(&mut fs), [("one".to_string(), 0), ("three".to_string(), 2)]);
    assert_eq!(fs.request(&request(FsOp::List, u16::MAX, Payload::EMPTY)), Err(Status::NotFound));
}

#[test]
fn a_file_holds_at_most_its_limit() {
    let mut fs = Fs::start();
    let h = create(&mut fs, "big");
    let full = vec![7u8; FILE_BYTES_MAX];
    assert_eq!(write(&mut fs, h, 0, &full), Ok(FILE_BYTES_MAX as u64));
    assert_eq!(read_all(&mut fs, h).unwrap(), full);
    let max = FILE_BYTES_MAX as u64;
    assert_eq!(write(&mut fs, h, max, b"!"), Err(Status::NoSpace));
    assert_eq!(write(&mut fs, h, max - 1, b"!!"), Err(Status::NoSpace));
    assert_eq!(fs.request(&write_request(h, max + 1, b"")), Err(Status::BadRequest), "offset beyond the limit");
    assert_eq!(read_at(&mut fs, h, max + 1), Err(Status::BadRequest));
    assert_eq!(read_at(&mut fs, h, max).unwrap(), b"");
    assert_eq!(size(&mut fs, h), Ok(max), "failed writes changed nothing");
}

#[test]
fn the_directory_holds_at_most_its_limit() {
    let mut fs = Fs::start();
    for i in 0..FILES_MAX {
        let h = create(&mut fs, &format!("file-{i}"));
        close(&mut fs, h).unwrap();
    }
    assert_eq!(open(&mut fs, "one-too-many", OPEN_CREATE), Err(Status::NoSpace));
    remove(&mut fs, "file-3").unwrap();
    assert!(open(&mut fs, "one-too-many", OPEN_CREATE).is_ok());
}

#[test]
fn the_handle_table_holds_at_most_its_limit() {
    let mut fs = Fs::start();
    let first = create(&mut fs, "f");
    for _ in 1..HANDLES_MAX {
        open(&mut fs, "f", 0).unwrap();
    }
    assert_eq!(open(&mut fs, "f", 0), Err(Status::NoSpace));
    assert_eq!(open(&mut fs, "g", OPEN_CREATE), Err(Status::NoSpace));
    assert_eq!(stat(&mut fs, "g"), Err(Status::NotFound), "no file is created without a handle");
    close(&mut fs, first).unwrap();
    assert!(open(&mut fs, "g", OPEN_CREATE).is_ok());
}

#[test]
fn malformed_requests_are_bad_requests() {
    let mut fs = Fs::start();
    let h = create(&mut fs, "f");
    let bad = [
        request(FsOp::Open, OPEN_CREATE, Payload::bytes(b"no spaces").unwrap()),
        request(FsOp::Open, OPEN_CREATE, Payload::EMPTY),
        request(FsOp::Open, OPEN_CREATE, Payload::bytes(b"seventeen-bytes-x").unwrap()),
        request(FsOp::Open, OPEN_CREATE, Payload::bytes(b"caf\xc3\xa9").unwrap()),
        request(FsOp::Write, h, Payload::bytes(b"short").unwrap()),
        request(FsOp::Stat, 0, Payload::bytes(b"../etc").unwrap()),
        request(FsOp::Remove, 0, Payload::EMPTY),
    ];
    for request in bad {
        assert_eq!(fs.request(&request), Err(Status::BadRequest), "{request:?}");
    }
    let unknown = server_api::Request::new(server_api::ServerId::Fs, FsOp::ALL.len() as u8, 0);
    assert_eq!(fs.request(&unknown), Err(Status::BadRequest));
}

#[test]
fn every_operation_passes_the_entry_site_and_the_others_are_reached() {
    let mut fs = Fs::start();
    let h = create(&mut fs, "f");
    write(&mut fs, h, 0, b"x").unwrap();
    read_all(&mut fs, h).unwrap();
    list(&mut fs);
    close(&mut fs, h).unwrap();
    remove(&mut fs, "f").unwrap();
    assert_eq!(fs.env.sites_hit(), fs_server::sites::COUNT as usize, "every site is on some path");
    assert!(fs.env.hits(fs_server::sites::ENTRY) >= 7);
}
