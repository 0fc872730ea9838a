//! Memory management: physical frames, page tables, the kernel heap, the
//! entry area that is all ring 3 sees of the kernel (page-table isolation),
//! device (DMA) memory for ring-3 drivers, and the memory processes map
//! through system calls.

pub mod address_space;
pub mod dma;
pub mod frames;
pub mod heap;
pub mod isolation;
pub mod paging;
pub mod process_memory;
