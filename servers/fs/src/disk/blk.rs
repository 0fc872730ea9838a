//! The file server's calls to the disk server: sectors through a lent buffer, a fault of the disk server retried once.

use alloc::vec;

use server_api::ops::blk::{DiskInfo, SECTORS_PER_CALL_MAX, SECTOR_BYTES};
use server_api::{BlkOp, CallError, Env, Payload, Request, ServerId, Status};

use super::format::{image_to_sector, sector_to_image, SectorSpan};

/// Times a call is sent again after the disk server faulted on it: once.
/// The recovery manager restarts a faulted server before its caller gets
/// the fault back, so the next attempt meets the new instance; a write is
/// idempotent, so sending it again is safe.
const FAULT_RETRIES: u32 = 1;

/// Why the disk cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unreachable {
    /// There is no disk to use (the disk server answered this status):
    /// the files stay in memory.
    NoDisk(Status),
    /// The disk or its server failed the call: it may work later.
    Failed(CallError),
}

/// Sends `request` to the disk server, lending `buffer`, sending it again
/// if the server faulted on it.
fn call(env: &mut dyn Env, request: &Request, mut buffer: Option<&mut [u8]>) -> Result<Payload, CallError> {
    let mut faults = 0;
    loop {
        let answer = match buffer.as_deref_mut() {
            Some(buffer) => env.call_with(request, buffer),
            None => env.call(request),
        };
        match answer {
            Err(CallError::ServerFault { .. }) if faults < FAULT_RETRIES => faults += 1,
            answer => return answer,
        }
    }
}

/// A request of `op` to the disk server starting at `sector`.
fn request(op: BlkOp, sector: u64) -> Request {
    Request::new(ServerId::Blk, op as u8, 0).with(Payload::word(sector))
}

/// The disk's size and features.
///
/// # Errors
/// [`Unreachable::NoDisk`] when the disk server has no disk (`NoDevice`),
/// is dead, or is not in this TAS (`BadRequest`); [`Unreachable::Failed`]
/// for anything else.
pub(crate) fn info(env: &mut dyn Env) -> Result<DiskInfo, Unreachable> {
    match call(env, &request(BlkOp::Info, 0), None) {
        Ok(payload) => DiskInfo::decode(&payload).ok_or(Unreachable::NoDisk(Status::BadRequest)),
        Err(CallError::Refused(status @ (Status::NoDevice | Status::ServerDead | Status::BadRequest))) => {
            Err(Unreachable::NoDisk(status))
        }
        Err(error) => Err(Unreachable::Failed(error)),
    }
}

/// Sector `sector`.
///
/// # Errors
/// The disk server's.
pub(crate) fn read_sector(env: &mut dyn Env, sector: u64) -> Result<[u8; SECTOR_BYTES], CallError> {
    let mut bytes = [0u8; SECTOR_BYTES];
    call(env, &request(BlkOp::Read, sector), Some(&mut bytes))?;
    Ok(bytes)
}

/// Writes `bytes` to sector `sector`.
///
/// # Errors
/// The disk server's.
pub(crate) fn write_sector(env: &mut dyn Env, sector: u64, bytes: &[u8; SECTOR_BYTES]) -> Result<(), CallError> {
    call(env, &request(BlkOp::Write, sector), Some(&mut bytes.clone())).map(drop)
}

/// Reads the disk sectors `span` of an image into `image`.
///
/// # Errors
/// The disk server's; `image` may then be partly read.
pub(crate) fn read_image(env: &mut dyn Env, span: SectorSpan, image: &mut [u64]) -> Result<(), CallError> {
    let mut buffer = vec![0u8; SECTORS_PER_CALL_MAX * SECTOR_BYTES];
    for first in span.sectors().step_by(SECTORS_PER_CALL_MAX) {
        let count = (span.sectors().end - first).min(SECTORS_PER_CALL_MAX as u64) as usize;
        let lent = &mut buffer[..count * SECTOR_BYTES];
        call(env, &request(BlkOp::Read, first), Some(lent))?;
        for (sector, bytes) in (first..).zip(lent.chunks_exact(SECTOR_BYTES)) {
            sector_to_image(bytes, sector, image);
        }
    }
    Ok(())
}

/// Writes the disk sectors `span` of the image held in the first
/// `image_words` words of the server's kept region.
///
/// # Errors
/// The disk server's; some of the sectors may then be written.
pub(crate) fn write_image(env: &mut dyn Env, span: SectorSpan, image_words: usize) -> Result<(), CallError> {
    let mut buffer = vec![0u8; SECTORS_PER_CALL_MAX * SECTOR_BYTES];
    for first in span.sectors().step_by(SECTORS_PER_CALL_MAX) {
        let count = (span.sectors().end - first).min(SECTORS_PER_CALL_MAX as u64) as usize;
        let lent = &mut buffer[..count * SECTOR_BYTES];
        let image = env.kept().get(..image_words).unwrap_or_default();
        for (sector, bytes) in (first..).zip(lent.chunks_exact_mut(SECTOR_BYTES)) {
            image_to_sector(image, sector, bytes);
        }
        call(env, &request(BlkOp::Write, first), Some(lent))?;
    }
    Ok(())
}

/// Puts what was written on the disk's medium.
///
/// # Errors
/// The disk server's.
pub(crate) fn flush(env: &mut dyn Env) -> Result<(), CallError> {
    call(env, &request(BlkOp::Flush, 0), None).map(drop)
}
