//! Memory management: physical frames, page tables, the kernel heap, and
//! device (DMA) memory for ring-3 drivers.

pub mod address_space;
pub mod dma;
pub mod frames;
pub mod heap;
pub mod paging;
