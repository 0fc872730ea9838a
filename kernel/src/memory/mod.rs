//! Memory management: physical frames, page tables and the kernel heap.

pub mod frames;
pub mod heap;
pub mod paging;
