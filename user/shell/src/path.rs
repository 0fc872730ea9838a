//! Paths as the shell reads them.
//!
//! The file server has one flat directory, the root `/`. So a path is a
//! file name, optionally written from the root (`/notes` is `notes`); `/`
//! and `.` name the root itself, and a trailing `/` is ignored. A path
//! with a directory part (`a/b`) names a directory that cannot exist, and
//! says so.

use core::fmt;

use server_api::{Name, NAME_MAX};

/// What a path names.
pub enum Path {
    /// The root directory, the only one.
    Root,
    /// A file in it (which may not exist).
    File(Name),
}

/// Why a path names nothing.
pub enum PathError<'a> {
    /// It has a directory part, which is not the root (without its
    /// leading `/`).
    NoDirectory(&'a str),
    /// Its file name is longer than [`NAME_MAX`] bytes.
    TooLong,
    /// Its file name has a byte that names cannot hold.
    BadName(&'a str),
}

impl fmt::Display for PathError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::NoDirectory(dir) => {
                write!(f, "no directory '/{dir}' (the file system has one directory, /)")
            }
            PathError::TooLong => write!(f, "name too long (at most {NAME_MAX} bytes)"),
            PathError::BadName(name) => {
                write!(f, "'{name}' is not a file name (letters, digits, '.', '_' and '-' only)")
            }
        }
    }
}

/// What `path` names.
pub fn parse(path: &str) -> Result<Path, PathError<'_>> {
    let relative = path.strip_prefix('/').or_else(|| path.strip_prefix("./")).unwrap_or(path);
    let relative = relative.strip_suffix('/').unwrap_or(relative);
    if relative.is_empty() || relative == "." {
        return Ok(Path::Root);
    }
    if let Some((dir, _)) = relative.rsplit_once('/') {
        return Err(PathError::NoDirectory(dir));
    }
    if relative.len() > NAME_MAX {
        return Err(PathError::TooLong);
    }
    Name::try_new(relative.as_bytes()).map(Path::File).map_err(|_| PathError::BadName(relative))
}
