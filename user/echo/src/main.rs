//! An IPC server: answers every message on its endpoint (handle 0) with each
//! word plus one; a first word of `STOP` makes it exit without answering,
//! so its caller sees the reply obligation answered by the kernel.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use lazarus_rt::ipc::{self, Handle, Message};
use lazarus_rt::println;

/// The endpoint the server is given.
const ENDPOINT: Handle = Handle(0);
/// A first word that asks the server to stop.
const STOP: u64 = u64::MAX;

fn answer(m: Message) -> Message {
    m.map(|w| w.wrapping_add(1))
}

fn main() -> i32 {
    let mut message = match ipc::recv(ENDPOINT) {
        Ok(m) => m,
        Err(e) => {
            println!("echo: recv failed: {e}");
            return 1;
        }
    };
    loop {
        if message[0] == STOP {
            return 0;
        }
        message = match ipc::reply_recv(ENDPOINT, answer(message)) {
            Ok(m) => m,
            Err(e) => {
                println!("echo: reply_recv failed: {e}");
                return 2;
            }
        };
    }
}

lazarus_rt::entry!(main);
