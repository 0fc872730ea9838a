//! The servers of the trusted address space, by number and name.

use core::fmt;

/// A server's number on the wire (the low byte of a request's first word).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum ServerId {
    /// The TAS itself: its listing of servers, fault injection by hand, the
    /// recovery log.
    System = 0,
    /// Service lookup: names registered to numbers.
    Name = 1,
    /// Files and directories, kept across restarts.
    Fs = 2,
    /// A server that misbehaves on request, for demos and tests.
    Crashtest = 3,
    /// Console output with a line discipline.
    Console = 4,
    /// The virtio disk: sectors read and written for the other servers.
    Blk = 5,
}

impl ServerId {
    /// Every server that runs as a restartable instance (all but `System`),
    /// in start order. `blk` comes last: nothing needs the disk before its
    /// first request (`fs` reaches it on its own first request), and the
    /// others keep the start-order indexes they had before it.
    pub const SERVERS: [ServerId; 5] =
        [ServerId::Console, ServerId::Name, ServerId::Fs, ServerId::Crashtest, ServerId::Blk];

    /// The server with this number.
    pub const fn from_number(n: u8) -> Option<Self> {
        Some(match n {
            0 => ServerId::System,
            1 => ServerId::Name,
            2 => ServerId::Fs,
            3 => ServerId::Crashtest,
            4 => ServerId::Console,
            5 => ServerId::Blk,
            _ => return None,
        })
    }

    /// The server's name, as the shell, the logs and campaigns spell it.
    pub const fn name(self) -> &'static str {
        match self {
            ServerId::System => "system",
            ServerId::Name => "name",
            ServerId::Fs => "fs",
            ServerId::Crashtest => "crashtest",
            ServerId::Console => "console",
            ServerId::Blk => "blk",
        }
    }

    /// The server with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        ServerId::SERVERS.into_iter().chain([ServerId::System]).find(|s| s.name() == name)
    }
}

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names_round_trip() {
        for s in ServerId::SERVERS.into_iter().chain([ServerId::System]) {
            assert_eq!(ServerId::from_number(s as u8), Some(s));
            assert_eq!(ServerId::from_name(s.name()), Some(s));
        }
        assert_eq!(ServerId::from_number(6), None);
        assert_eq!(ServerId::from_name("disk"), None);
        assert_eq!(ServerId::from_name("blk"), Some(ServerId::Blk));
    }
}
