//! System-call numbers and the register convention.
//!
//! `syscall` with the number in RAX and up to six arguments in RDI, RSI,
//! RDX, R10, R8, R9 (RCX and R11 are taken by the instruction itself). The
//! result comes back in RAX: a value `>= 0` on success, `-(error code)` on
//! failure (see [`crate::error`]). RCX and R11 are clobbered; every other
//! register is preserved, except that the IPC calls return their message
//! in RSI, RDX, R10 and R8.
//!
//! IPC: a message is [`MESSAGE_WORDS`] words, passed in RSI, RDX, R10, R8
//! both ways; RDI holds the endpoint handle (an index into the process's
//! handle table). The IPC calls with a timeout (`call_timeout`,
//! `recv_timeout`, `send`) take it, in milliseconds, in R9.

/// Words in an IPC message.
pub const MESSAGE_WORDS: usize = 4;

/// Declares the system-call enum and its number table from one list, so
/// the numbers cannot drift apart from the table that decodes them.
macro_rules! syscalls {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $number:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u64)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $number,)+
        }

        impl $name {
            /// Every system call, in number order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The system call with this number.
            pub const fn from_number(n: u64) -> Option<Self> {
                match n {
                    $($number => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

syscalls! {
    /// A system call.
    Syscall {
        /// `debug_write(ptr, len) -> len`: writes bytes to the kernel console.
        DebugWrite = 0,
        /// `exit(code) -> !`: ends the calling process with `code`: every one of
        /// its threads.
        Exit = 1,
        /// `yield() -> 0`: offers the CPU to another thread.
        Yield = 2,
        /// `sleep_ms(ms) -> 0`: sleeps at least `ms` milliseconds.
        SleepMs = 3,
        /// `null() -> 0`: does nothing; measures the cost of a system call.
        Null = 4,
        /// `call(handle, msg) -> reply`: sends `msg` to the endpoint and waits
        /// for the reply.
        Call = 5,
        /// `recv(handle) -> msg`: waits for a message on the endpoint; the caller
        /// then owes its sender a reply.
        Recv = 6,
        /// `reply_recv(handle, reply) -> msg`: answers the last caller with
        /// `reply`, then waits for the next message.
        ReplyRecv = 7,
        /// `set_fault_handler(entry, stack, len) -> 0`: from now on a CPU
        /// exception of the calling thread is delivered to `entry` (the trusted
        /// address space's unwinding trampoline) on the fault stack
        /// `[stack, stack + len)`, instead of ending the process. Each thread
        /// registers its own.
        SetFaultHandler = 8,
        /// `console_read(buf, len) -> n`: waits for console input and copies up
        /// to `len` bytes of it (at least one) into `buf`.
        ConsoleRead = 9,
        /// `thread_list(buf, len) -> n`: a text table of the kernel's threads
        /// (id, process, state, name), cut to `len` bytes.
        ThreadList = 10,
        /// `mem_info(buf, len) -> n`: a text summary of frames and kernel heap,
        /// cut to `len` bytes.
        MemInfo = 11,
        /// `reboot() -> !`: resets the machine.
        Reboot = 12,
        /// `uptime() -> ns`: nanoseconds since boot.
        Uptime = 13,
        /// `boot_options(buf, len) -> n`: copies the boot command line (the
        /// `key=value` words given through fw_cfg), cut to `len` bytes.
        BootOptions = 14,
        /// `set_watchdog(word, limit_ms) -> 0`: for a process with a fault
        /// handler (the trusted address space). While the `u64` at address
        /// `word` is non-zero (a server is at work), a thread that stays in
        /// ring 3 `limit_ms` without entering the kernel is interrupted and a
        /// fault with vector [`WATCHDOG_VECTOR`] is delivered to its handler.
        /// `limit_ms == 0` disarms it.
        SetWatchdog = 15,
        /// `arm_regflip(value, register, bit, after_ticks) -> 0`: fault
        /// injection, for the process that set a watchdog word. At the first
        /// timer tick at least `after_ticks` ticks from now that interrupts the
        /// caller in ring 3 while its watchdog word equals `value`, the kernel
        /// flips `bit` of the saved `register` ([`REGFLIP_REGISTERS`] order) and
        /// prints `campaign: injected`. Arming again replaces the previous one.
        ArmRegflip = 16,
        /// `symbolize(addr, buf, len) -> n`: writes `name+0xoffset` for the code
        /// address `addr` into `buf`: the demangled name (without its hash) of
        /// the function holding `addr` in the symbol table of the ELF image the
        /// calling process was loaded from (a ramdisk program), and `addr`'s
        /// offset in it. The text is cut to `len` bytes at a character boundary;
        /// returns the bytes written. Errors: `len == 0` is `InvalidArgument`,
        /// `len` above [`SYMBOL_TEXT_MAX`] `TooLong`, a buffer that is not
        /// writable user memory `BadAddress`; a process that was not loaded from
        /// a ramdisk ELF image, or whose image has no function symbols, gets
        /// `NoSymbolTable`; an address in no function, `NoSymbol`.
        Symbolize = 17,
        /// `pci_find(vendor, device, index) -> address`: the PCI address word
        /// ([`crate::device::PciAddress`]) of the `index`-th function (0 first,
        /// in bus/device/function order) whose vendor and device ids match;
        /// [`crate::device::PCI_ANY`] matches any. Errors: an id above 0xFFFF
        /// is `InvalidArgument`; no such function, `NoDevice`.
        PciFind = 18,
        /// `device_info(address, buf, len) -> n`: writes the description of
        /// the function at `address` ([`crate::device::DeviceInfo::encode`],
        /// [`crate::device::DEVICE_INFO_BYTES`] bytes) into `buf`; returns the
        /// bytes written. Anyone may ask; it claims nothing. Errors: a bad
        /// address word, or `len` below the description's size, is
        /// `InvalidArgument`; no function there, `NoDevice`; a buffer that is
        /// not writable user memory, `BadAddress`.
        DeviceInfo = 19,
        /// `device_claim(address) -> 0`: makes the caller the device's only
        /// owner until it releases it or ends. The kernel turns on the device's
        /// I/O and memory decoding and bus mastering, enables its legacy
        /// interrupt and routes its line to a notification of the claim, masked
        /// until the first `irq_wait`. Claiming a device one owns already
        /// succeeds and changes nothing. Errors: a bad address word is
        /// `InvalidArgument`; no function there (or a bridge), `NoDevice`;
        /// another process owns it, `DeviceBusy`.
        DeviceClaim = 20,
        /// `device_release(address) -> 0`: gives the device up: bus mastering
        /// and its interrupt are turned off (it can no longer write memory) and
        /// its line is unrouted. Errors: `InvalidArgument`, `NoDevice` as for
        /// `device_claim`; not the owner, `NotGranted`. A process that ends
        /// releases its devices, then frees its DMA memory, in that order.
        DeviceRelease = 21,
        /// `port_read(address, bar, offset, width) -> value`: reads `width`
        /// (1, 2 or 4) bytes at port `offset` of I/O BAR `bar` (0–5) of a device
        /// the caller owns. Errors: a bad address word, `bar` above 5 or
        /// another width is `InvalidArgument`; no function there, `NoDevice`;
        /// not the owner, not an I/O BAR, or `[offset, offset + width)` not
        /// inside the BAR, `NotGranted`.
        PortRead = 22,
        /// `port_write(address, bar, offset, width, value) -> 0`: writes the
        /// low `width` bytes of `value`, as `port_read` reads; a `value` that
        /// does not fit `width` bytes is `InvalidArgument`.
        PortWrite = 23,
        /// `dma_alloc(vaddr, len) -> phys`: maps `len` bytes (rounded up to
        /// pages) of zeroed, physically contiguous memory below
        /// [`crate::device::DMA_PHYS_LIMIT`] at the page-aligned user address
        /// `vaddr`, writable and not executable, and returns its physical
        /// address for the device. Only for a process that owns a device;
        /// freed by `dma_free` or when the process ends (after its devices were
        /// released). Errors: owns no device, `NotGranted`; `len == 0`,
        /// `InvalidArgument`; `len` above [`crate::device::DMA_MAX_BYTES`],
        /// `TooLong`; `vaddr` unaligned, outside user space, or any page of the
        /// range already mapped, `BadAddress`; the process's DMA bytes would
        /// pass [`crate::device::DMA_QUOTA_BYTES`], or no contiguous frames are
        /// left, `NoMemory`.
        DmaAlloc = 24,
        /// `dma_free(vaddr) -> 0`: unmaps and frees the region `dma_alloc`
        /// mapped at `vaddr`. The device must no longer use it (the kernel
        /// cannot know). Errors: no region of the caller starts at `vaddr`,
        /// `InvalidArgument`.
        DmaFree = 25,
        /// `irq_wait(address, timeout_ms) -> count`: waits for the interrupt
        /// of a device the caller owns and returns how many interrupts came
        /// since the last return (at least 1). Interrupts that came while
        /// nobody waited are returned at once. Otherwise the call first
        /// unmasks the line (the caller has handled what the last return
        /// reported: acknowledged it at the device) and blocks until the next
        /// interrupt, which the kernel masks until the next `irq_wait`, or
        /// until `timeout_ms` passes (0: do not block). Errors: a bad address
        /// word or `timeout_ms` above [`crate::device::IRQ_WAIT_MAX_MS`],
        /// `InvalidArgument`; no function there, or it has no routable
        /// interrupt line, `NoDevice`; not the owner, `NotGranted`; nothing
        /// came in time, `TimedOut`.
        IrqWait = 26,
        /// `flip_code(function, offset, bit) -> address`: fault injection (a
        /// `memflip` into code), for the thread that set a watchdog word (the
        /// trusted address space's). Flips `bit` (0–7) of the byte at
        /// `offset` modulo the function's size into the function holding the
        /// code address `function`, in the symbol table of the caller's image,
        /// and returns that byte's address. The kernel writes through the
        /// frame, so the page stays read-only and executable for the process;
        /// the flip lasts as long as the process (its frames are its own copy
        /// of the image). Errors: `bit` above 7 is `InvalidArgument`; a caller
        /// that set no watchdog, `NotGranted`; no symbol table, `NoSymbolTable`;
        /// `function` in no function of known size, `NoSymbol`; the byte not in
        /// a present, executable, read-only user page, `BadAddress`.
        FlipCode = 27,
        /// `repair_code() -> bytes`: for the thread that set a watchdog word
        /// (the trusted address space's, when it restarts a server). Compares
        /// the caller's read-only executable segments with the ELF image it was
        /// loaded from and writes back every byte that differs, as a fresh load
        /// would; returns how many it restored (0 when the code is intact).
        /// Errors: a caller that set no watchdog, `NotGranted`; not loaded from
        /// an image, `NoSymbolTable`.
        RepairCode = 28,
        /// `map(vaddr, len, flags) -> 0`: maps `len` bytes (rounded up to whole
        /// pages) of fresh zeroed memory at the page-aligned user address
        /// `vaddr`, readable, and writable ([`crate::memory::MAP_WRITE`]) or
        /// executable ([`crate::memory::MAP_EXECUTE`]) but never both (W^X).
        /// The pages count against the process's quota
        /// ([`crate::memory::MAP_QUOTA_BYTES`]) until `unmap` or the process's
        /// end frees them. Errors: `len == 0`, an unknown flag or both flags,
        /// `InvalidArgument`; `len` above the quota, `TooLong`; `vaddr`
        /// unaligned, null, outside user space, or `vaddr + len` past it or
        /// wrapping, `BadAddress`; any page of the range already mapped (the
        /// image, the stack, DMA memory, an earlier `map` or `accept`),
        /// `AddressInUse`; the quota would be passed, `QuotaExceeded`; no free
        /// frames, `NoMemory`. On any error nothing is mapped.
        Map = 29,
        /// `unmap(vaddr, len) -> 0`: unmaps and frees the pages of `[vaddr,
        /// vaddr + len)` (rounded up to whole pages), every one of which the
        /// process mapped with `map` (a part of a `map` is fine). Errors:
        /// `len == 0`, `InvalidArgument`; `len` above the quota, `TooLong`;
        /// `vaddr` unaligned or the range not in user space, `BadAddress`; a
        /// page not mapped with `map` (unmapped, the image, the stack, DMA
        /// memory, an accepted grant), `NotMapped`; a page offered in a grant
        /// that was not revoked, `Shared`. On any error nothing is unmapped.
        Unmap = 30,
        /// `grant(vaddr, len, handle, flags) -> grant_id`: offers the pages of
        /// `[vaddr, vaddr + len)` (rounded up to whole pages; every one mapped
        /// by the caller with `map`) to the process that serves the endpoint of
        /// `handle`: the first process that waited for messages on it, for as
        /// long as it lives. Only that process can `accept` the grant, once;
        /// with [`crate::memory::GRANT_WRITE`] it may write the pages (which
        /// must then be writable for the caller). The pages cannot be unmapped
        /// while granted. The grant ends with `revoke` or the end of either
        /// process. Errors: `len == 0` or an unknown flag, `InvalidArgument`;
        /// `len` above the quota, `TooLong`; a bad range, `BadAddress`; a page
        /// not mapped with `map`, `NotMapped`; a writable grant of a page the
        /// caller cannot write, `NotGranted`; `BadHandle`, `StaleHandle`;
        /// nobody serves the endpoint, `PeerGone`; the caller has
        /// [`crate::memory::GRANTS_MAX`] grants already, `QuotaExceeded`.
        Grant = 31,
        /// `accept(grant_id, vaddr) -> len`: maps the pages of a grant offered
        /// to the caller at its page-aligned address `vaddr` (readable, writable
        /// if the grant says so, never executable): the same frames as the
        /// granter's, so each side sees what the other writes. Returns the
        /// bytes mapped. The mapping lasts until either side revokes the grant
        /// or either process ends. Errors: an id that names no grant offered to
        /// the caller (unknown, revoked, ended, someone else's, or accepted
        /// already), `BadGrant`; `vaddr` unaligned or the range outside user
        /// space, `BadAddress`; a page of the range already mapped,
        /// `AddressInUse`; no frames for page tables, `NoMemory`.
        Accept = 32,
        /// `revoke(grant_id) -> 0`: ends a grant the caller made or was
        /// offered: its pages are unmapped from the receiver if it accepted
        /// them (the granter keeps its own). Errors: an id that names no live
        /// grant of which the caller is the granter or the receiver,
        /// `BadGrant`.
        Revoke = 33,
        /// `call_timeout(handle, msg, timeout_ms) -> reply`: `call` (message in
        /// RSI, RDX, R10, R8; reply there too) with the timeout in R9: if no
        /// reply came within `timeout_ms` (at least that long on the `uptime`
        /// clock, and up to a 10 ms timer tick more), the call ends with
        /// `TimedOut` and leaves nothing behind: a message no server took is
        /// withdrawn, and a server that took it owes the caller nothing any
        /// more (its reply is dropped, so it can never reach a later call).
        /// Never takes the fast path.
        /// Errors: as `call`; `timeout_ms` 0 or above
        /// [`crate::memory::IPC_TIMEOUT_MAX_MS`], `InvalidArgument`; the time
        /// passed, `TimedOut`.
        CallTimeout = 34,
        /// `recv_timeout(handle, timeout_ms) -> msg`: `recv` with the timeout
        /// in R9 (0: take a waiting message or fail at once). Errors: as
        /// `recv`; `timeout_ms` above [`crate::memory::IPC_TIMEOUT_MAX_MS`],
        /// `InvalidArgument`; nothing came in time, `TimedOut` (the caller then
        /// waits on the endpoint no more).
        RecvTimeout = 35,
        /// `send(handle, msg, timeout_ms) -> 0`: a one-way message (in RSI,
        /// RDX, R10, R8; the timeout in R9): returns as soon as a server takes
        /// it (at once if one waits), or fails with `TimedOut` after
        /// `timeout_ms` (0: only if a server waits now), the message
        /// withdrawn. The server that takes it owes no reply. Errors: as
        /// `call`; `timeout_ms` above [`crate::memory::IPC_TIMEOUT_MAX_MS`],
        /// `InvalidArgument`; no server took it in time, `TimedOut`.
        Send = 36,
        /// `thread_create(entry, stack_top, arg) -> thread`: starts another
        /// thread of the calling process at `entry`, with RSP `stack_top - 8`
        /// (as if `entry` had been called) and `arg` in RDI; returns its
        /// number (for `thread_join`). The new thread has no fault handler
        /// until it sets one (its fault stack must be its own). Errors: `entry`
        /// outside user space, `stack_top` not 16-byte aligned or its last 64
        /// bytes not writable user memory, `BadAddress`; the process has
        /// [`THREADS_PER_PROCESS`] threads (live or ended and not joined),
        /// `QuotaExceeded`; no memory for the thread, `NoMemory`.
        ThreadCreate = 37,
        /// `thread_exit(code) -> !`: ends the calling thread; `code` (at most
        /// `u32::MAX`) is kept for `thread_join`. When the last thread of a
        /// process ends this way, the process ends with its code. (`exit` ends
        /// the whole process, every thread.) Errors: `code` above `u32::MAX`,
        /// `InvalidArgument`.
        ThreadExit = 38,
        /// `thread_join(thread) -> code`: waits until `thread`, of the
        /// caller's process, has ended with `thread_exit`, and returns its
        /// code (once). Errors: the caller itself, or a thread that waits for
        /// the caller through joins, `InvalidArgument`; no such thread in the
        /// process, or joined already, `BadHandle`; the process ends meanwhile,
        /// `PeerGone`.
        ThreadJoin = 39,
    }
}

/// Most threads a process may have at once: its live threads, the first
/// included, and those that ended and were not joined yet.
pub const THREADS_PER_PROCESS: usize = 16;

/// Most bytes one `symbolize` call writes (its `len` limit): room for any
/// demangled name a backtrace needs, never a way to make the kernel copy
/// without limit.
pub const SYMBOL_TEXT_MAX: u64 = 4096;

/// The pseudo-vector of a watchdog fault (above the 32 exception vectors,
/// below every interrupt vector the kernel uses).
pub const WATCHDOG_VECTOR: u8 = 0x1F;

/// The registers `arm_regflip` can flip, by index: the hardware encoding
/// order `rax` (0) to `r15` (15), then `rip` (16) and `rflags` (17).
pub const REGFLIP_REGISTERS: usize = 18;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for (index, s) in Syscall::ALL.iter().enumerate() {
            assert_eq!(*s as usize, index, "{s:?}");
            assert_eq!(Syscall::from_number(*s as u64), Some(*s));
        }
        assert_eq!(Syscall::from_number(Syscall::ALL.len() as u64), None);
        assert_eq!(Syscall::from_number(u64::MAX), None);
    }
}
