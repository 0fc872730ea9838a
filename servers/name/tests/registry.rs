//! The name server: registrations, lookups, listing, limits, and what survives its restarts.

use name_server::{sites, NameServer};
use server_api::ops::name::REGISTRATIONS_MAX;
use server_harness::{check_double_flips, check_faults_at_every_site, check_single_flips, Harness};
use server_api::{InitNote, Name, NameOp, Payload, Request, ServerId, Status};

type Names = Harness<NameServer>;

fn request(op: NameOp, arg: u16, payload: Payload) -> Request {
    Request::new(ServerId::Name, op as u8, arg).with(payload)
}

fn name(text: &str) -> Name {
    Name::try_new(text.as_bytes()).unwrap()
}

fn register_request(text: &str, value: u64) -> Request {
    request(NameOp::Register, 0, name(text).with_word(value))
}

fn register(names: &mut Names, text: &str, value: u64) -> Result<(), Status> {
    names.request(&register_request(text, value)).map(drop)
}

fn lookup(names: &mut Names, text: &str) -> Result<u64, Status> {
    Ok(names.request(&request(NameOp::Lookup, 0, name(text).to_payload()))?.words[0])
}

fn unregister(names: &mut Names, text: &str) -> Result<(), Status> {
    names.request(&request(NameOp::Unregister, 0, name(text).to_payload())).map(drop)
}

fn list(names: &mut Names) -> Vec<(String, u64)> {
    names.list_named(|index| request(NameOp::List, index, Payload::EMPTY))
}

/// A server with a few registrations, one of them removed.
fn populated() -> Names {
    let mut names = Names::start();
    register(&mut names, "fs", 2).unwrap();
    register(&mut names, "console", 4).unwrap();
    register(&mut names, "gone", 9).unwrap();
    register(&mut names, "max", u64::MAX).unwrap();
    unregister(&mut names, "gone").unwrap();
    names
}

#[test]
fn names_are_registered_looked_up_listed_and_unregistered() {
    let mut names = populated();
    assert_eq!(lookup(&mut names, "fs"), Ok(2));
    assert_eq!(lookup(&mut names, "max"), Ok(u64::MAX));
    assert_eq!(lookup(&mut names, "gone"), Err(Status::NotFound));
    assert_eq!(list(&mut names), [("fs".to_string(), 2), ("console".to_string(), 4), ("max".to_string(), u64::MAX)]);
    assert_eq!(unregister(&mut names, "gone"), Err(Status::NotFound));
    assert!(names.env.sites_hit() == sites::COUNT as usize, "every site is on some path");
}

#[test]
fn a_taken_name_is_refused_until_unregistered() {
    let mut names = populated();
    assert_eq!(register(&mut names, "fs", 3), Err(Status::Exists));
    assert_eq!(lookup(&mut names, "fs"), Ok(2), "the first registration stands");
    unregister(&mut names, "fs").unwrap();
    register(&mut names, "fs", 3).unwrap();
    assert_eq!(lookup(&mut names, "fs"), Ok(3));
}

#[test]
fn the_registry_holds_at_most_its_limit() {
    let mut names = Names::start();
    for i in 0..REGISTRATIONS_MAX {
        register(&mut names, &format!("n{i}"), i as u64).unwrap();
    }
    assert_eq!(register(&mut names, "extra", 0), Err(Status::NoSpace));
    unregister(&mut names, "n5").unwrap();
    register(&mut names, "extra", 0).unwrap();
    assert_eq!(list(&mut names).len(), REGISTRATIONS_MAX);
}

#[test]
fn malformed_requests_are_bad_requests() {
    let mut names = Names::start();
    let bad = [
        request(NameOp::Register, 0, Payload { len: 0, words: [0, 0, 7] }),
        request(NameOp::Register, 0, Payload { len: 17, words: [u64::from_le_bytes(*b"abcdefgh"); 3] }),
        request(NameOp::Lookup, 0, Payload::bytes(b"a b").unwrap()),
        request(NameOp::Unregister, 0, Payload::bytes(b"\xff").unwrap()),
        Request::new(ServerId::Name, NameOp::ALL.len() as u8, 0),
    ];
    for request in bad {
        assert_eq!(names.request(&request), Err(Status::BadRequest), "{request:?}");
    }
}

#[test]
fn registrations_survive_restarts() {
    let mut names = populated();
    assert_eq!(names.note(), InitNote::Formatted);
    let before = names.state();
    assert_eq!(names.restart(), InitNote::Restored { corrected: 0 });
    assert_eq!(names.state(), before);
    assert_eq!(lookup(&mut names, "console"), Ok(4));
    unregister(&mut names, "console").unwrap();
    names.restart();
    assert_eq!(lookup(&mut names, "console"), Err(Status::NotFound), "an unregistration is kept too");
}

#[test]
fn a_fault_at_any_site_leaves_the_state_before_or_after_the_request() {
    let one = name("one").to_payload();
    let script = [
        register_request("one", 1),
        register_request("two", 2),
        request(NameOp::Lookup, 0, one),
        request(NameOp::List, 1, Payload::EMPTY),
        request(NameOp::Unregister, 0, one),
        register_request("one", 11),
        request(NameOp::Lookup, 0, one),
    ];
    let fired = check_faults_at_every_site::<NameServer>(&script, 8, &[]);
    assert!(fired >= sites::COUNT as usize * 2, "{fired} faults fired");
}

#[test]
fn a_registration_interrupted_before_the_store_is_not_kept() {
    let mut names = populated();
    names.env.arm(sites::REGISTER, 0);
    assert_eq!(register(&mut names, "late", 5), Err(Status::ServerFault));
    assert_eq!(lookup(&mut names, "late"), Err(Status::NotFound));
}

#[test]
fn a_single_flipped_bit_anywhere_is_corrected_and_counted() {
    check_single_flips::<NameServer>(&populated().env.kept);
}

#[test]
fn a_double_flip_in_a_word_that_is_read_formats_and_starts_clean() {
    let region = populated().env.kept;
    let detected = check_double_flips::<NameServer>(&region);
    assert!(detected > 15, "{detected} words detected");
    let mut names = Names::start_flipped(&region, 0, 0b11);
    assert_eq!(names.note(), InitNote::DamagedFormatted);
    assert!(list(&mut names).is_empty());
    register(&mut names, "again", 1).unwrap();
    assert_eq!(names.restart(), InitNote::Restored { corrected: 0 });
    assert_eq!(lookup(&mut names, "again"), Ok(1));
}
