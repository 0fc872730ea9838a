//! The crash-test server: its well-behaved answers, and each way it misbehaves on request.

use std::cell::RefCell;
use std::rc::Rc;

use console_server::ConsoleServer;
use crashtest_server::{sites, CrashtestServer};
use server_api::ops::crashtest::{
    compute_checksum, timed_call, Timings, COMPUTE_WORDS_MAX, RECURSE_DEPTH_MAX, TIME_CALLS_MAX, TIME_WARMUP_CALLS,
};
use server_api::{CallError, CrashtestOp, InitNote, Payload, Request, Server, ServerId, Status};
use server_harness::{Callee, Harness};

type Crashtest = Harness<CrashtestServer>;

fn request(op: CrashtestOp, arg: u16, payload: Payload) -> Request {
    Request::new(ServerId::Crashtest, op as u8, arg).with(payload)
}

#[test]
fn it_keeps_nothing() {
    assert_eq!(CrashtestServer::KEPT_WORDS, 0);
    assert_eq!(Crashtest::start().note(), InitNote::NothingKept);
}

#[test]
fn echo_adds_one_to_each_word() {
    let mut server = Crashtest::start();
    let reply = server.request(&request(CrashtestOp::Echo, 0, Payload::words([0, 41, u64::MAX])));
    assert_eq!(reply, Ok(Payload::words([1, 42, 0])));
}

#[test]
fn compute_answers_the_golden_checksum() {
    let mut server = Crashtest::start();
    for n in [0, 1, 2, 100, COMPUTE_WORDS_MAX] {
        let reply = server.request(&request(CrashtestOp::Compute, n, Payload::EMPTY));
        assert_eq!(reply, Ok(Payload::word(compute_checksum(n))), "n = {n}");
    }
    let too_many = request(CrashtestOp::Compute, COMPUTE_WORDS_MAX + 1, Payload::EMPTY);
    assert_eq!(server.request(&too_many), Err(Status::BadRequest));
}

#[test]
fn a_bounded_recursion_reaches_its_depth() {
    let mut server = Crashtest::start();
    for depth in [1, 2, RECURSE_DEPTH_MAX] {
        let reply = server.request(&request(CrashtestOp::Recurse, depth, Payload::EMPTY));
        assert_eq!(reply, Ok(Payload::word(u64::from(depth))));
    }
    assert_eq!(server.env.hits(sites::RECURSE), 1 + 2 + u64::from(RECURSE_DEPTH_MAX), "one site a frame");
    let too_deep = request(CrashtestOp::Recurse, RECURSE_DEPTH_MAX + 1, Payload::EMPTY);
    assert_eq!(server.request(&too_deep), Err(Status::BadRequest));
}

#[test]
fn panic_faults_and_the_server_comes_back() {
    let mut server = Crashtest::start();
    let reply = server.call(&request(CrashtestOp::Panic, 0, Payload::EMPTY));
    assert_eq!((reply.status, reply.generation), (Status::ServerFault, 1));
    assert_eq!(server.generation(), 2);
    assert!(server.request(&request(CrashtestOp::Echo, 0, Payload::EMPTY)).is_ok());
}

/// The hang calls its site on every turn; here the watchdog is a fault
/// armed after a thousand turns.
#[test]
fn hang_loops_until_something_ends_it() {
    let mut server = Crashtest::start();
    server.env.arm(sites::HANG, 1000);
    let reply = server.call(&request(CrashtestOp::Hang, 0, Payload::EMPTY));
    assert_eq!(reply.status, Status::ServerFault);
    assert_eq!(server.env.hits(sites::HANG), 1001);
}

#[test]
fn an_unbounded_recursion_goes_on_until_ended() {
    let mut server = Crashtest::start();
    // Stands in for the stack guard: a fault 500 frames down.
    server.env.arm(sites::RECURSE, 500);
    let reply = server.call(&request(CrashtestOp::Recurse, 0, Payload::EMPTY));
    assert_eq!(reply.status, Status::ServerFault);
    assert_eq!(server.env.hits(sites::RECURSE), 501);
}

#[test]
fn unknown_operations_are_bad_requests() {
    let mut server = Crashtest::start();
    for op in [CrashtestOp::ALL.len() as u8, u8::MAX] {
        let unknown = Request::new(ServerId::Crashtest, op, 0);
        assert_eq!(server.request(&unknown), Err(Status::BadRequest));
    }
    assert_eq!(server.env.sites_hit(), 1, "only the entry site");
}

#[test]
fn relay_calls_another_server_and_reports_its_fault() {
    use server_api::ops::crashtest::RelayOutcome;
    use server_api::FsOp;
    let mut server = Crashtest::start();
    let name = *b"keep";
    // Stat of "keep" in fs: op, arg 0, four bytes of payload.
    let control = FsOp::Stat as u64 | 4 << 24;
    let packed = Payload::words([control, u64::from(u32::from_le_bytes(name)), 0]);
    server.env.call_answer = Some(Err(CallError::ServerFault { server: ServerId::Fs, generation: 3 }));
    let reply = server.request(&request(CrashtestOp::Relay, ServerId::Fs as u16, packed)).unwrap();
    let outcome = RelayOutcome::decode(&reply).unwrap();
    assert_eq!((outcome.status, outcome.faulted_generation), (Status::ServerFault, 3));
    let sent = server.env.calls[0];
    assert_eq!((sent.server, sent.op, sent.arg, sent.payload.len), (ServerId::Fs, FsOp::Stat as u8, 0, 4));
    assert_eq!(&sent.payload.to_bytes().0[..4], b"keep");
    server.env.call_answer = Some(Ok(Payload::word(24)));
    let answered = RelayOutcome::decode(&server.request(&request(CrashtestOp::Relay, ServerId::Fs as u16, packed)).unwrap());
    assert_eq!(answered, Some(RelayOutcome { status: Status::Ok, faulted_generation: 0, word: 24 }));
    assert_eq!(server.generation(), 1, "the caller goes on");
    for bad in [ServerId::System as u16, 99] {
        assert_eq!(server.request(&request(CrashtestOp::Relay, bad, packed)), Err(Status::BadRequest));
    }
}

#[test]
fn a_fault_while_holding_the_console_lock_releases_it() {
    let mut server = Crashtest::start();
    assert_eq!(server.request(&request(CrashtestOp::HoldLock, 0, Payload::EMPTY)), Ok(Payload::EMPTY));
    assert_eq!(server.request(&request(CrashtestOp::HoldLock, 1, Payload::EMPTY)), Err(Status::ServerFault));
    assert!(!server.env.held[0], "released on the way out of the fault");
    server.env.held[0] = true;
    assert_eq!(server.request(&request(CrashtestOp::HoldLock, 0, Payload::EMPTY)), Err(Status::Busy));
    assert_eq!(server.request(&request(CrashtestOp::HoldLock, 2, Payload::EMPTY)), Err(Status::BadRequest));
}

/// Sets a console server, in a harness of its own, to answer crashtest's
/// calls, each advancing crashtest's clock by one tick more than the last
/// (the first by 1): the k-th call, warm-up included, takes k ticks.
fn console_taking_longer_each_call(server: &mut Crashtest) -> Rc<RefCell<Harness<ConsoleServer>>> {
    let console = Rc::new(RefCell::new(Harness::<ConsoleServer>::start()));
    let (callee, clock) = (Rc::clone(&console), Rc::clone(&server.env.clock));
    let mut calls = 0;
    server.env.callee = Some(Callee::new(move |request, _lent| {
        calls += 1;
        clock.set(clock.get() + calls);
        callee.borrow_mut().request(request).map_err(CallError::Refused)
    }));
    console
}

#[test]
fn time_calls_times_calls_to_the_console_after_a_warm_up() {
    let mut server = Crashtest::start();
    let console = console_taking_longer_each_call(&mut server);
    let warm_up = u64::from(TIME_WARMUP_CALLS);
    let reply = server.request(&request(CrashtestOp::TimeCalls, 5, Payload::EMPTY)).unwrap();
    // The timed calls are the 101st to the 105th: 101 to 105 ticks each.
    let expected = Timings { median: warm_up + 3, p90: warm_up + 5, p99: warm_up + 5, min: warm_up + 1, samples: 5 };
    assert_eq!(Timings::decode(&reply), expected);
    assert_eq!(server.env.calls.len(), usize::from(TIME_WARMUP_CALLS) + 5);
    assert!(server.env.calls.iter().all(|call| *call == timed_call()), "console's Write of nothing, every time");
    assert_eq!(timed_call().server, ServerId::Console);
    let console = console.borrow();
    assert!(console.env.console.is_empty(), "the calls wrote nothing");
    assert_eq!(console.env.hits(console_server::sites::ENTRY), warm_up + 5);
    assert_eq!(server.env.sites_hit(), 1, "no site of its own: only the entry");
}

#[test]
fn time_calls_takes_one_to_its_maximum() {
    let mut server = Crashtest::start();
    console_taking_longer_each_call(&mut server);
    for n in [0, TIME_CALLS_MAX + 1, u16::MAX] {
        let refused = server.request(&request(CrashtestOp::TimeCalls, n, Payload::EMPTY));
        assert_eq!(refused, Err(Status::BadRequest), "n = {n}");
    }
    assert!(server.env.calls.is_empty(), "refused before any call");
    for n in [1, TIME_CALLS_MAX] {
        let reply = server.request(&request(CrashtestOp::TimeCalls, n, Payload::EMPTY)).unwrap();
        assert_eq!(Timings::decode(&reply).samples, u64::from(n));
    }
}

#[test]
fn time_calls_ends_with_the_callees_refusal_or_fault() {
    let mut server = Crashtest::start();
    server.env.call_answer = Some(Err(CallError::Refused(Status::Busy)));
    assert_eq!(server.request(&request(CrashtestOp::TimeCalls, 1, Payload::EMPTY)), Err(Status::Busy));
    assert_eq!(server.env.calls.len(), 1, "the first refusal ends it");
    server.env.call_answer = Some(Err(CallError::ServerFault { server: ServerId::Console, generation: 4 }));
    let reply = server.call(&request(CrashtestOp::TimeCalls, 1, Payload::EMPTY));
    assert_eq!(reply.status, Status::Restarting, "the callee faulted, not crashtest");
    assert_eq!(server.generation(), 1);
    server.env.call_answer = None;
    assert_eq!(server.request(&request(CrashtestOp::TimeCalls, 1, Payload::EMPTY)), Err(Status::ServerDead));
}
