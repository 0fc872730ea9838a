//! Memory management: physical frames, page tables, the kernel heap,
//! device (DMA) memory for ring-3 drivers, the memory processes map
//! through system calls, and the TLB rules that keep address spaces apart.

pub mod address_space;
pub mod dma;
pub mod frames;
pub mod heap;
pub mod isolation;
pub mod paging;
pub mod process_memory;
pub mod tlb;
