//! Whatever a client sends, the name server answers with a status and never panics.

use name_server::NameServer;
use proptest::prelude::*;
use server_harness::Harness;
use server_api::{InitNote, NameOp, Payload, Request, ServerId, Status, PAYLOAD_BYTES};

/// Any request: operation numbers around the real ones, any argument,
/// payloads biased to short names from a small alphabet (so that names
/// collide) with any word after them.
fn any_request() -> impl Strategy<Value = Request> {
    let op = prop_oneof![4 => 0..NameOp::ALL.len() as u8, 1 => any::<u8>()];
    let arg = prop_oneof![2 => 0u16..40, 1 => any::<u16>()];
    let named = ("[a-c]{1,3}", any::<u64>()).prop_map(|(name, value)| {
        let mut payload = Payload::bytes(name.as_bytes()).unwrap();
        payload.words[2] = value;
        payload
    });
    let raw = (0..=PAYLOAD_BYTES as u8, any::<[u64; 3]>()).prop_map(|(len, words)| Payload { len, words });
    let payload = prop_oneof![3 => named, 1 => raw];
    (op, arg, payload).prop_map(|(op, arg, payload)| Request::new(ServerId::Name, op, arg).with(payload))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random request sequences: no fault, only the documented statuses,
    /// and a restart at the end restores exactly the state reached.
    #[test]
    fn random_requests_never_fault(requests in proptest::collection::vec(any_request(), 1..80)) {
        let mut names = Harness::<NameServer>::start();
        for request in &requests {
            let reply = names.call(request);
            prop_assert!(
                matches!(reply.status, Status::Ok | Status::BadRequest | Status::NotFound | Status::NoSpace | Status::Exists),
                "{request:?} -> {reply:?}"
            );
        }
        prop_assert_eq!(names.generation(), 1);
        let before = names.state();
        prop_assert_eq!(names.restart(), InitNote::Restored { corrected: 0 });
        prop_assert_eq!(names.state(), before);
    }
}
