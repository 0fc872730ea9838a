//! Requests to the file server, as its tests make them.

#![allow(dead_code, reason = "each test file uses its own share of the helpers")]

use fs_server::FileServer;
use server_api::ops::fs::{OPEN_CREATE, OPEN_EXCLUSIVE, WRITE_HEADER_BYTES};
use server_harness::Harness;
use server_api::{FsOp, Name, Payload, Request, ServerId, Status, PAYLOAD_BYTES};

pub type Fs = Harness<FileServer>;

/// A request to the file server.
pub fn request(op: FsOp, arg: u16, payload: Payload) -> Request {
    Request::new(ServerId::Fs, op as u8, arg).with(payload)
}

pub fn name(text: &str) -> Payload {
    Name::try_new(text.as_bytes()).unwrap().to_payload()
}

pub fn open(fs: &mut Fs, file: &str, flags: u16) -> Result<u16, Status> {
    let reply = fs.request(&request(FsOp::Open, flags, name(file)))?;
    Ok(reply.words[0] as u16)
}

pub fn create(fs: &mut Fs, file: &str) -> u16 {
    open(fs, file, OPEN_CREATE | OPEN_EXCLUSIVE).unwrap()
}

pub fn write_request(handle: u16, offset: u64, data: &[u8]) -> Request {
    let mut bytes = [0u8; PAYLOAD_BYTES];
    bytes[..WRITE_HEADER_BYTES].copy_from_slice(&offset.to_le_bytes());
    bytes[WRITE_HEADER_BYTES..WRITE_HEADER_BYTES + data.len()].copy_from_slice(data);
    request(FsOp::Write, handle, Payload::bytes(&bytes[..WRITE_HEADER_BYTES + data.len()]).unwrap())
}

/// Writes `data` (any length) at `offset`, a request per 16 bytes; the size after.
pub fn write(fs: &mut Fs, handle: u16, offset: u64, data: &[u8]) -> Result<u64, Status> {
    let mut size = 0;
    for (i, chunk) in data.chunks(server_api::ops::fs::WRITE_BYTES_MAX).enumerate() {
        let at = offset + (i * server_api::ops::fs::WRITE_BYTES_MAX) as u64;
        size = fs.request(&write_request(handle, at, chunk))?.words[0];
    }
    Ok(size)
}

pub fn read_at(fs: &mut Fs, handle: u16, offset: u64) -> Result<Vec<u8>, Status> {
    let reply = fs.request(&request(FsOp::Read, handle, Payload::word(offset)))?;
    let (bytes, len) = reply.to_bytes();
    Ok(bytes[..len].to_vec())
}

/// The whole file, a reply at a time.
pub fn read_all(fs: &mut Fs, handle: u16) -> Result<Vec<u8>, Status> {
    let mut all = Vec::new();
    loop {
        let chunk = read_at(fs, handle, all.len() as u64)?;
        if chunk.is_empty() {
            return Ok(all);
        }
        all.extend(chunk);
    }
}

pub fn size(fs: &mut Fs, handle: u16) -> Result<u64, Status> {
    Ok(fs.request(&request(FsOp::Size, handle, Payload::EMPTY))?.words[0])
}

pub fn close(fs: &mut Fs, handle: u16) -> Result<(), Status> {
    fs.request(&request(FsOp::Close, handle, Payload::EMPTY)).map(drop)
}

pub fn remove(fs: &mut Fs, file: &str) -> Result<(), Status> {
    fs.request(&request(FsOp::Remove, 0, name(file))).map(drop)
}

pub fn stat(fs: &mut Fs, file: &str) -> Result<u64, Status> {
    Ok(fs.request(&request(FsOp::Stat, 0, name(file)))?.words[0])
}

/// The directory: every file's name and size, by `List`.
pub fn list(fs: &mut Fs) -> Vec<(String, u64)> {
    fs.list_named(|index| request(FsOp::List, index, Payload::EMPTY))
}

/// The directory with every file's contents: what a restart must keep.
pub fn snapshot(fs: &mut Fs) -> Vec<(String, Vec<u8>)> {
    list(fs)
        .into_iter()
        .map(|(file, _)| {
            let handle = open(fs, &file, 0).unwrap();
            let data = read_all(fs, handle).unwrap();
            close(fs, handle).unwrap();
            (file, data)
        })
        .collect()
}
