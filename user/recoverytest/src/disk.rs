//! What the disk checks ask the disk server: its disk and its books (it has no client stubs: a program can only ask, sectors are for servers).

use lazarus_rt::client::{self, ClientError};
use lazarus_rt::sys;
use server_api::ops::blk::{BlkBooks, DiskInfo};
use server_api::{BlkOp, Payload, Reply, Request, ServerId, Status};

use crate::fail;

/// Times a request is sent while the disk server restarts.
const ATTEMPTS: u32 = 50;
/// Pause between those attempts.
const PAUSE_MS: u64 = 5;

/// Sends `op` to the disk server until it answers with a status that is
/// not transient.
fn ask(op: BlkOp, payload: Payload) -> Result<Reply, ClientError> {
    let request = Request::new(ServerId::Blk, op as u8, 0).with(payload);
    let mut reply = client::send(&request)?;
    for _ in 1..ATTEMPTS {
        if !reply.status.is_transient() {
            break;
        }
        let _ = sys::sleep_ms(PAUSE_MS);
        reply = client::send(&request)?;
    }
    Ok(reply)
}

/// The disk, as the disk server describes it.
pub fn info() -> Result<DiskInfo, &'static str> {
    match ask(BlkOp::Info, Payload::EMPTY).map(Reply::into_result) {
        Ok(Ok(payload)) => DiskInfo::decode(&payload).ok_or("the disk server's Info does not decode"),
        other => fail!("the disk server did not describe its disk", "Info: {other:?}"),
    }
}

/// The disk server's books.
pub fn books() -> Result<BlkBooks, &'static str> {
    match ask(BlkOp::Books, Payload::EMPTY).map(Reply::into_result) {
        Ok(Ok(payload)) => Ok(BlkBooks::decode(&payload)),
        other => fail!("the disk server's Books failed", "Books: {other:?}"),
    }
}

/// What a program gets when it asks for a sector: it lends no buffer.
pub fn read_without_a_buffer() -> Result<Status, ClientError> {
    ask(BlkOp::Read, Payload::word(0)).map(|reply| reply.status)
}
