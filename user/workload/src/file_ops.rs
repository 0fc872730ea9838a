//! The file server's requests that may take effect before a fault cuts
//! their reply, each redone only when a check shows it did not.
//!
//! What a fault can leave half done (`server_api::ops::fs`): a create
//! whose file is kept but whose handle is not (the `CREATED` site), a
//! remove that closed the file's handles but kept the file (`REMOVE`), a
//! close not yet kept (`CLOSE`). An open of an existing file changes
//! nothing before its last step, but a fault past that step (a flipped
//! register) could leave a handle open that nobody knows: every file the
//! workload opens more than once is removed in the same round, which
//! closes all its handles, so such leaks never pile up in the handle table.

use lazarus_rt::client::fs::{self, FileHandle};
use lazarus_rt::client::ClientError;
use server_api::Status;

use crate::failure::{same, sent, Check, Failure};
use crate::redo::{redo, redo_blind, Effect};

/// Makes the file `name`, which must not exist, and opens it. After an
/// interrupted create, a file of size 0 is the one it made: it is opened.
pub fn create(name: &str) -> Check<FileHandle> {
    let made = redo("create", || fs::create_new(name), || match sent(fs::stat(name)) {
        Ok(size) => {
            same("size of a file just made", 0, size)?;
            open_existing(name).map(Effect::Done)
        }
        Err(ClientError::Server(Status::NotFound)) => Ok(Effect::Missing),
        Err(error) => Err(Failure::Error("stat after a create", error)),
    });
    match made {
        // Nobody else makes files: it was there before, although the
        // workload removed it.
        Err(Failure::Error(_, ClientError::Server(Status::Exists))) => {
            Err(Failure::Wrong("a file the workload removed is still there"))
        }
        other => other,
    }
}

/// Opens the existing file `name`; redone blindly (see the module
/// documentation for the handle it may leave).
pub fn open_existing(name: &str) -> Check<FileHandle> {
    redo_blind("open", || fs::open(name, false))
}

/// Closes `handle`, which must be open. After an interrupted close, a
/// handle the server no longer knows is closed.
pub fn close(handle: FileHandle) -> Check {
    redo("close", || fs::close(handle), || match sent(fs::size(handle)) {
        Err(ClientError::Server(Status::BadHandle)) => Ok(Effect::Done(())),
        Ok(_) => Ok(Effect::Missing),
        Err(error) => Err(Failure::Error("size after a close", error)),
    })
}

/// Removes the file `name`, which must exist. After an interrupted
/// remove, a file the server no longer has is removed.
pub fn remove(name: &str) -> Check {
    redo("remove", || fs::remove(name), || match sent(fs::stat(name)) {
        Err(ClientError::Server(Status::NotFound)) => Ok(Effect::Done(())),
        Ok(_) => Ok(Effect::Missing),
        Err(error) => Err(Failure::Error("stat after a remove", error)),
    })
}

/// Removes the file `name` if it exists: what an earlier run left.
pub fn remove_if_there(name: &str) -> Check {
    match sent(fs::stat(name)) {
        Ok(_) => remove(name),
        Err(ClientError::Server(Status::NotFound)) => Ok(()),
        Err(error) => Err(Failure::Error("stat", error)),
    }
}

/// Checks that `handle` is closed: the server answers `BadHandle`.
pub fn expect_closed(what: &'static str, handle: FileHandle) -> Check {
    match sent(fs::size(handle)) {
        Err(ClientError::Server(Status::BadHandle)) => Ok(()),
        Ok(_) => Err(Failure::Wrong(what)),
        Err(error) => Err(Failure::Error("size of a closed handle", error)),
    }
}

/// Checks that the file `name` does not exist.
pub fn expect_gone(what: &'static str, name: &str) -> Check {
    match sent(fs::stat(name)) {
        Err(ClientError::Server(Status::NotFound)) => Ok(()),
        Ok(_) => Err(Failure::Wrong(what)),
        Err(error) => Err(Failure::Error("stat of a removed file", error)),
    }
}
