//! The file commands: `write PATH TEXT`, `cat PATH` and `ls [DIR]`, on the
//! file server's one directory (how paths read: [`crate::path`]).
//!
//! Every handle opened here is closed before the command ends, whatever
//! failed after the open: the file server's handle table is small
//! (`HANDLES_MAX`) and kept across its restarts, so a forgotten handle
//! would outlive the shell. Opens, closes and removes, which the stubs
//! send once, are repeated after a transient failure (see
//! [`crate::service::again`]): each is harmless to repeat here.

use lazarus_rt::client::{fs, ClientError};
use lazarus_rt::{print, println};
use server_api::ops::fs::{FILES_MAX, FILE_BYTES_MAX};
use server_api::{Name, Status};

use crate::path::{self, Path};
use crate::service::{again, Told};

/// `write PATH TEXT`: makes the file PATH hold exactly TEXT (the rest of
/// the line), creating it if need be.
pub fn write(args: &str) {
    let (path, text) = args.split_once(' ').unwrap_or((args, ""));
    if path.is_empty() {
        println!("usage: write PATH TEXT");
        return;
    }
    let Some(name) = file_named("write", path) else { return };
    let text = text.trim_start();
    if text.len() > FILE_BYTES_MAX {
        println!("write: TEXT is {} bytes; a file holds at most {FILE_BYTES_MAX}", text.len());
        return;
    }
    match overwrite(&name, text.as_bytes()) {
        Ok(()) => println!("{name}: {} written", Bytes(text.len() as u64)),
        Err(ClientError::Server(Status::NoSpace)) => {
            println!("write: {name}: no room (at most {FILES_MAX} files of {FILE_BYTES_MAX} bytes)")
        }
        Err(e) => println!("write: {name}: {}", Told(e)),
    }
}

/// `cat PATH`: prints the file PATH, and a line end if it has none.
pub fn cat(args: &str) {
    let mut words = args.split_whitespace();
    let (Some(path), None) = (words.next(), words.next()) else {
        println!("usage: cat PATH");
        return;
    };
    let Some(name) = file_named("cat", path) else { return };
    let handle = match again(|| fs::open(name.as_str(), false)) {
        Ok(h) => h,
        Err(ClientError::Server(Status::NotFound)) => {
            println!("cat: no such file '{path}'");
            return;
        }
        Err(e) => {
            println!("cat: {name}: {}", Told(e));
            return;
        }
    };
    let printed = print_file(handle);
    let closed = close(handle);
    match printed.and(closed) {
        Ok(()) => {}
        Err(e) => println!("cat: {name}: {}", Told(e)),
    }
}

/// `ls [DIR]`: the files of the directory with their sizes; for a file's
/// path, that file alone.
pub fn ls(args: &str) {
    let mut words = args.split_whitespace();
    let (path, None) = (words.next(), words.next()) else {
        println!("usage: ls [DIR]");
        return;
    };
    match path.map_or(Ok(Path::Root), path::parse) {
        Err(e) => println!("ls: {e}"),
        Ok(Path::Root) => list(),
        Ok(Path::File(name)) => match fs::stat(name.as_str()) {
            Ok(size) => {
                println!("{:<16} {:>6}", "NAME", "BYTES");
                println!("{:<16} {size:>6}", name.as_str());
            }
            Err(ClientError::Server(Status::NotFound)) => {
                println!("ls: no such file or directory '{}' (the file system has one directory, /)", path.unwrap_or(""));
            }
            Err(e) => println!("ls: {}", Told(e)),
        },
    }
}

/// The file name `path` names, or `None` after saying why it names none.
fn file_named(command: &str, path: &str) -> Option<Name> {
    match path::parse(path) {
        Ok(Path::File(name)) => Some(name),
        Ok(Path::Root) => {
            println!("{command}: '{path}' is a directory");
            None
        }
        Err(e) => {
            println!("{command}: {e}");
            None
        }
    }
}

/// Makes the file `name` hold `bytes`. The file server cannot shorten a
/// file, so an old one is removed first.
fn overwrite(name: &Name, bytes: &[u8]) -> Result<(), ClientError> {
    // A repeat after a fault may find the file already gone.
    match again(|| fs::remove(name.as_str())) {
        Ok(()) | Err(ClientError::Server(Status::NotFound)) => {}
        Err(e) => return Err(e),
    }
    // With create: a repeat finds the file the faulted attempt made.
    let handle = again(|| fs::open(name.as_str(), true))?;
    let written = fs::write(handle, 0, bytes);
    let closed = close(handle);
    written.and(closed)
}

/// Closes `handle`; a repeat after a fault that finds it closed succeeds.
fn close(handle: fs::FileHandle) -> Result<(), ClientError> {
    let mut faulted = false;
    again(|| match fs::close(handle) {
        Err(ClientError::Server(Status::BadHandle)) if faulted => Ok(()),
        Err(ClientError::Server(status)) if status.is_transient() => {
            faulted = true;
            Err(ClientError::Server(status))
        }
        result => result,
    })
}

/// Prints the file open on `handle` from its start, then a line end if it
/// did not end with one.
fn print_file(handle: fs::FileHandle) -> Result<(), ClientError> {
    let mut buf = [0u8; FILE_BYTES_MAX];
    let mut offset = 0u64;
    let mut line_open = false;
    let result = loop {
        let n = match fs::read(handle, offset, &mut buf) {
            Ok(n) => n,
            Err(e) => break Err(e),
        };
        print_bytes(&buf[..n]);
        if n > 0 {
            line_open = buf[n - 1] != b'\n';
        }
        if n < buf.len() {
            break Ok(());
        }
        offset += n as u64;
    };
    if line_open {
        println!();
    }
    result
}

/// Prints `bytes` as text; bytes that are not UTF-8 as `\xNN`.
fn print_bytes(bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        print!("{}", chunk.valid());
        for byte in chunk.invalid() {
            print!("\\x{byte:02x}");
        }
    }
}

/// Prints the directory: a line per file, then the count and total size.
fn list() {
    let mut files = 0u32;
    let mut bytes = 0u64;
    for index in 0..=u16::MAX {
        match fs::list(index) {
            Ok(Some(entry)) => {
                if files == 0 {
                    println!("{:<16} {:>6}", "NAME", "BYTES");
                }
                println!("{:<16} {:>6}", entry.name.as_str(), entry.size);
                files += 1;
                bytes += entry.size;
            }
            Ok(None) => break,
            Err(e) => {
                println!("ls: {}", Told(e));
                return;
            }
        }
    }
    match files {
        0 => println!("no files"),
        1 => println!("1 file, {}", Bytes(bytes)),
        n => println!("{n} files, {}", Bytes(bytes)),
    }
}

/// A count of bytes, said in words: "1 byte", "11 bytes".
struct Bytes(u64);

impl core::fmt::Display for Bytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            1 => f.write_str("1 byte"),
            n => write!(f, "{n} bytes"),
        }
    }
}
