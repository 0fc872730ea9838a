//! The console server's line discipline: whole lines out, long lines in pieces, flush for the rest.

use console_server::{sites, ConsoleServer};
use proptest::prelude::*;
use server_api::ops::console::LINE_BYTES_MAX;
use server_harness::Harness;
use server_api::{ConsoleOp, InitNote, Payload, Request, ServerId, Status, PAYLOAD_BYTES};

type Console = Harness<ConsoleServer>;

fn write(console: &mut Console, bytes: &[u8]) -> Result<u64, Status> {
    let request = Request::new(ServerId::Console, ConsoleOp::Write as u8, 0).with(Payload::bytes(bytes).unwrap());
    Ok(console.request(&request)?.words[0])
}

fn flush(console: &mut Console) {
    let request = Request::new(ServerId::Console, ConsoleOp::Flush as u8, 0);
    console.request(&request).unwrap();
}

#[test]
fn a_line_goes_out_only_when_it_ends() {
    let mut console = Console::start();
    assert_eq!(console.note(), InitNote::NothingKept);
    assert_eq!(write(&mut console, b"hello, "), Ok(7));
    assert_eq!(console.env.console, b"");
    write(&mut console, b"world\nnext").unwrap();
    assert_eq!(console.env.console, b"hello, world\n");
    flush(&mut console);
    assert_eq!(console.env.console, b"hello, world\nnext");
    flush(&mut console);
    assert_eq!(console.env.console, b"hello, world\nnext", "nothing left to flush");
}

#[test]
fn a_long_line_goes_out_in_pieces() {
    let mut console = Console::start();
    let line = [b'x'; LINE_BYTES_MAX + 10];
    for chunk in line.chunks(PAYLOAD_BYTES) {
        write(&mut console, chunk).unwrap();
    }
    assert_eq!(console.env.console.len(), LINE_BYTES_MAX);
    write(&mut console, b"\n").unwrap();
    assert_eq!(console.env.console.len(), line.len() + 1);
}

#[test]
fn a_restart_loses_the_partial_line_only() {
    let mut console = Console::start();
    write(&mut console, b"done\npartial").unwrap();
    console.restart();
    write(&mut console, b"!\n").unwrap();
    assert_eq!(console.env.console, b"done\n!\n");
}

#[test]
fn a_fault_before_a_line_goes_out_loses_it() {
    let mut console = Console::start();
    console.env.arm(sites::LINE, 0);
    assert_eq!(write(&mut console, b"lost\n"), Err(Status::ServerFault));
    write(&mut console, b"kept\n").unwrap();
    assert_eq!(console.env.console, b"kept\n");
}

#[test]
fn an_empty_write_and_unknown_operations() {
    let mut console = Console::start();
    assert_eq!(write(&mut console, b""), Ok(0));
    let unknown = Request::new(ServerId::Console, 9, 0);
    assert_eq!(console.request(&unknown), Err(Status::BadRequest));
}

proptest! {
    /// Whatever the chunks, the console shows the bytes in order: up to
    /// the last line end or full piece before a flush, all of them after.
    #[test]
    fn output_is_the_input_cut_at_line_ends(chunks in proptest::collection::vec(
        proptest::collection::vec(prop_oneof![8 => b'a'..=b'z', 1 => Just(b'\n')], 0..=PAYLOAD_BYTES), 0..40)) {
        let mut console = Console::start();
        let input: Vec<u8> = chunks.concat();
        for chunk in &chunks {
            prop_assert_eq!(write(&mut console, chunk), Ok(chunk.len() as u64));
        }
        let shown = console.env.console.clone();
        prop_assert!(input.starts_with(&shown));
        let pending = &input[shown.len()..];
        prop_assert!(!pending.contains(&b'\n') && pending.len() < LINE_BYTES_MAX, "pending {pending:?}");
        flush(&mut console);
        prop_assert_eq!(&console.env.console, &input);
    }
}

#[test]
fn lines_wait_while_another_server_holds_the_console_lock() {
    let mut console = Console::start();
    console.env.held[0] = true;
    assert_eq!(write(&mut console, b"first\n"), Ok(6), "taken, kept for later");
    let flush_request = Request::new(ServerId::Console, ConsoleOp::Flush as u8, 0);
    assert_eq!(console.request(&flush_request), Err(Status::Busy));
    assert_eq!(console.env.console, b"");
    console.env.held[0] = false;
    write(&mut console, b"second\n").unwrap();
    assert_eq!(console.env.console, b"first\nsecond\n", "nothing lost, nothing twice, in order");
    assert!(!console.env.held[0], "the console released the lock");
}
