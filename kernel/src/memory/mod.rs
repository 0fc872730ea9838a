//! Memory management: physical frames, page tables and the kernel heap.

pub mod address_space;
pub mod frames;
pub mod heap;
pub mod paging;
