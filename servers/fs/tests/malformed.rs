//! Whatever a client sends, the file server answers with a status and never panics.

mod common;

use common::*;
use proptest::prelude::*;
use server_api::ops::fs::OPEN_CREATE;
use server_api::{FsOp, InitNote, Payload, Request, ServerId, Status, PAYLOAD_BYTES};

/// Any request: operation numbers around the real ones, any argument
/// (biased to small handles and indexes), any payload length and words
/// (biased to short names from a small alphabet, so files get created).
fn any_request() -> impl Strategy<Value = Request> {
    let op = prop_oneof![4 => 0..FsOp::ALL.len() as u8, 1 => any::<u8>()];
    let arg = prop_oneof![2 => 0u16..100, 1 => any::<u16>(), 1 => Just(OPEN_CREATE)];
    let name_payload = "[a-c]{1,3}".prop_map(|name| Payload::bytes(name.as_bytes()).unwrap());
    let raw_payload = (0..=PAYLOAD_BYTES as u8, any::<[u64; 3]>()).prop_map(|(len, words)| Payload { len, words });
    let small_words = (0u64..300, any::<[u8; 16]>(), 8u8..=PAYLOAD_BYTES as u8).prop_map(|(offset, data, len)| {
        let mut bytes = [0u8; PAYLOAD_BYTES];
        bytes[..8].copy_from_slice(&offset.to_le_bytes());
        bytes[8..].copy_from_slice(&data);
        Payload::bytes(&bytes[..usize::from(len)]).unwrap()
    });
    let payload = prop_oneof![name_payload, raw_payload, small_words];
    (op, arg, payload).prop_map(|(op, arg, payload)| Request::new(ServerId::Fs, op, arg).with(payload))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random request sequences: no fault, only the documented statuses,
    /// and a restart at the end restores exactly the state reached.
    #[test]
    fn random_requests_never_fault(requests in proptest::collection::vec(any_request(), 1..60)) {
        let mut fs = Fs::start();
        for request in &requests {
            let reply = fs.call(request);
            prop_assert!(
                matches!(reply.status, Status::Ok | Status::BadRequest | Status::NotFound | Status::NoSpace
                    | Status::BadHandle | Status::Exists),
                "{request:?} -> {reply:?}"
            );
        }
        prop_assert_eq!(fs.generation(), 1);
        let before = fs.state();
        prop_assert_eq!(fs.restart(), InitNote::Restored { corrected: 0 });
        prop_assert_eq!(fs.state(), before);
    }
}
