//! The file server on the disk: its on-disk format, its link to the disk, and its calls to the disk server.

pub(crate) mod blk;
pub(crate) mod format;
pub(crate) mod link;
