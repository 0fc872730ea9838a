//! [`Device`]: what the disk server needs of a disk, so that the same server runs over the virtio disk in the TAS and over memory in host tests.

use core::fmt;

use server_api::ops::blk::SECTOR_BYTES;

/// Why a request to the device failed (the driver's typed error).
pub type DiskFault = virtio_blk::BlkError;

/// A disk the server drives: one request at a time, each with a hook the
/// server runs while the device holds it (its [`crate::sites::IN_FLIGHT`]
/// site).
///
/// Dropping the value must stop the device from using its memory before
/// that memory is freed.
pub trait Device: Sized + fmt::Debug {
    /// Takes the disk over for a new instance of the server: finds it,
    /// claims it, stops whatever a previous instance left it doing and
    /// frees the device memory such an instance left mapped, then sets it
    /// up with fresh device memory.
    fn start() -> Started<Self>;

    /// Sectors on the disk.
    fn capacity(&self) -> u64;

    /// Entries of its request queue.
    fn queue_size(&self) -> u16;

    /// Whether it caches writes until a flush.
    fn has_write_cache(&self) -> bool;

    /// Bytes of device memory the value holds.
    fn dma_bytes(&self) -> u64;

    /// Device interrupts taken so far.
    fn interrupts(&self) -> u64;

    /// Reads sector `sector` into `buf`, running `in_flight` meanwhile.
    ///
    /// # Errors
    /// [`DiskFault`] if the device fails or does not answer.
    fn read(&mut self, sector: u64, buf: &mut [u8; SECTOR_BYTES], in_flight: &mut dyn FnMut()) -> Result<(), DiskFault>;

    /// Writes `buf` to sector `sector`, running `in_flight` meanwhile.
    ///
    /// # Errors
    /// [`DiskFault`] if the device fails or does not answer.
    fn write(&mut self, sector: u64, buf: &[u8; SECTOR_BYTES], in_flight: &mut dyn FnMut()) -> Result<(), DiskFault>;

    /// Puts every write answered so far on the medium, running
    /// `in_flight` meanwhile (at once, with no write cache).
    ///
    /// # Errors
    /// [`DiskFault`] if the device fails or does not answer.
    fn flush(&mut self, in_flight: &mut dyn FnMut()) -> Result<(), DiskFault>;
}

/// What [`Device::start`] found.
#[derive(Debug)]
pub struct Started<D> {
    /// The disk, set up, or why there is none.
    pub disk: Result<D, NoDisk>,
    /// Whether a previous instance's device memory was still mapped and
    /// had to be freed (the backstop).
    pub reclaimed: bool,
}

/// Why an instance has no disk to serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoDisk {
    /// No legacy virtio-blk device on the PCI buses.
    Absent,
    /// Another process owns the device.
    Busy,
    /// The device is there but could not be set up.
    Failed(DiskFault),
}

impl fmt::Display for NoDisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoDisk::Absent => f.write_str("no legacy virtio-blk device"),
            NoDisk::Busy => f.write_str("the virtio disk belongs to another process"),
            NoDisk::Failed(fault) => write!(f, "the virtio disk could not be set up: {fault}"),
        }
    }
}
