//! The servers of this TAS image, in start order, each with its private
//! heap and its kept-state region.

use alloc::vec;
use alloc::vec::Vec;

use blk_server::BlkServer;
use console_server::ConsoleServer;
use crashtest_server::CrashtestServer;
use fs_server::FileServer;
use name_server::NameServer;
use server_api::{Server, ServerId};
use tas_runtime::heap::HeapId;

use crate::instance::{handler_code, init_of, Slot, StoreEvents};

fn slot<S: Server + 'static>(id: ServerId, heap_index: usize) -> Slot {
    Slot {
        id,
        sites: S::CAMPAIGN_SITES,
        init: init_of::<S>,
        code: handler_code::<S>(),
        heap: HeapId::private(heap_index).expect("one private heap per server"),
        state: None,
        abandoned: None,
        generation: 1,
        // Allocated now, in the exchange heap: it outlives every instance.
        kept: vec![0; S::KEPT_WORDS],
        exchange_owned: 0,
        store: StoreEvents::default(),
    }
}

/// Every server, in start order.
pub fn slots() -> Vec<Slot> {
    vec![
        slot::<ConsoleServer>(ServerId::Console, 0),
        slot::<NameServer>(ServerId::Name, 1),
        slot::<FileServer>(ServerId::Fs, 2),
        slot::<CrashtestServer>(ServerId::Crashtest, 3),
        slot::<BlkServer>(ServerId::Blk, 4),
    ]
}
