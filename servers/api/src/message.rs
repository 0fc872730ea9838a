//! Requests and replies as the four words of an IPC message.
//!
//! ```text
//! request  word 0: server (bits 0-7) | operation (8-15) | argument (16-31)
//!                  | payload length in bytes (32-39)
//!                  | expected generation (40-63; 0: whichever instance serves)
//!          words 1-3: payload
//! reply    word 0: status (bits 0-7) | payload length (8-15)
//!                  | generation of the answering instance (16-63)
//!          words 1-3: payload
//! ```

use crate::server_id::ServerId;
use crate::status::Status;

/// Payload words in a request or reply (the message's words 1 to 3).
pub const PAYLOAD_WORDS: usize = 3;
/// Payload bytes in a request or reply.
pub const PAYLOAD_BYTES: usize = PAYLOAD_WORDS * 8;

/// Bit positions in word 0.
const OP_SHIFT: u32 = 8;
const ARG_SHIFT: u32 = 16;
const LEN_SHIFT: u32 = 32;
const EXPECT_SHIFT: u32 = 40;
const GENERATION_SHIFT: u32 = 16;
/// Largest generation a reply carries (48 bits).
const GENERATION_MAX: u64 = (1 << (64 - GENERATION_SHIFT)) - 1;
/// Largest generation a request can expect (24 bits).
pub const EXPECT_MAX: u32 = (1 << (64 - EXPECT_SHIFT)) - 1;

/// Up to [`PAYLOAD_BYTES`] bytes (or three words) of a request or reply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Payload {
    /// Bytes used, when the payload is bytes (0 for word payloads).
    pub len: u8,
    /// The words.
    pub words: [u64; PAYLOAD_WORDS],
}

impl Payload {
    /// No payload.
    pub const EMPTY: Payload = Payload { len: 0, words: [0; PAYLOAD_WORDS] };

    /// Words, no byte length.
    pub const fn words(words: [u64; PAYLOAD_WORDS]) -> Self {
        Payload { len: 0, words }
    }

    /// One word (word 0), the others zero: a handle, a size, a value.
    pub const fn word(word: u64) -> Self {
        Payload::words([word, 0, 0])
    }

    /// Up to [`PAYLOAD_BYTES`] bytes; `None` if longer.
    pub fn bytes(bytes: &[u8]) -> Option<Self> {
        Some(Payload { len: bytes.len() as u8, words: pack_bytes(bytes)? })
    }

    /// The bytes (the first `len`).
    pub fn to_bytes(&self) -> ([u8; PAYLOAD_BYTES], usize) {
        (unpack_bytes(&self.words), usize::from(self.len).min(PAYLOAD_BYTES))
    }
}

/// Packs up to [`PAYLOAD_BYTES`] bytes into words, little-endian, zero-padded.
pub fn pack_bytes(bytes: &[u8]) -> Option<[u64; PAYLOAD_WORDS]> {
    if bytes.len() > PAYLOAD_BYTES {
        return None;
    }
    let mut buf = [0u8; PAYLOAD_BYTES];
    buf[..bytes.len()].copy_from_slice(bytes);
    let mut words = [0u64; PAYLOAD_WORDS];
    for (w, chunk) in words.iter_mut().zip(buf.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *w = u64::from_le_bytes(b);
    }
    Some(words)
}

/// The bytes of packed words.
pub fn unpack_bytes(words: &[u64; PAYLOAD_WORDS]) -> [u8; PAYLOAD_BYTES] {
    let mut out = [0u8; PAYLOAD_BYTES];
    for (chunk, w) in out.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// A request to a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// The server.
    pub server: ServerId,
    /// The operation, in the server's own numbering.
    pub op: u8,
    /// A small argument (a handle, an index, an offset).
    pub arg: u16,
    /// The payload.
    pub payload: Payload,
    /// The generation of the instance the caller means (0: whichever
    /// serves). Any other instance answers `StaleGeneration` without
    /// running the request: state the caller learned from an older
    /// instance, beyond what the server keeps, is gone.
    pub expect: u32,
}

impl Request {
    /// A request with no payload, to whichever instance serves.
    pub const fn new(server: ServerId, op: u8, arg: u16) -> Self {
        Request { server, op, arg, payload: Payload::EMPTY, expect: 0 }
    }

    /// This request with `payload`.
    pub const fn with(mut self, payload: Payload) -> Self {
        self.payload = payload;
        self
    }

    /// This request, for instance `generation` only; `None` past
    /// [`EXPECT_MAX`].
    pub const fn expecting(mut self, generation: u32) -> Option<Self> {
        if generation > EXPECT_MAX {
            return None;
        }
        self.expect = generation;
        Some(self)
    }

    /// Whether the instance of `generation` may serve this request (the
    /// proxy's check): it expects no instance, or that one.
    pub fn is_for(&self, generation: u64) -> bool {
        self.expect == 0 || u64::from(self.expect) == generation
    }

    /// The message words.
    pub fn encode(&self) -> [u64; 4] {
        let w0 = self.server as u64
            | u64::from(self.op) << OP_SHIFT
            | u64::from(self.arg) << ARG_SHIFT
            | u64::from(self.payload.len) << LEN_SHIFT
            | u64::from(self.expect.min(EXPECT_MAX)) << EXPECT_SHIFT;
        let [a, b, c] = self.payload.words;
        [w0, a, b, c]
    }

    /// The request in `words`; `BadRequest` for an unknown server or a
    /// payload length over [`PAYLOAD_BYTES`].
    pub fn decode(words: [u64; 4]) -> Result<Self, Status> {
        let w0 = words[0];
        let server = ServerId::from_number(w0 as u8).ok_or(Status::BadRequest)?;
        let len = (w0 >> LEN_SHIFT) as u8;
        if usize::from(len) > PAYLOAD_BYTES {
            return Err(Status::BadRequest);
        }
        Ok(Request {
            server,
            op: (w0 >> OP_SHIFT) as u8,
            arg: (w0 >> ARG_SHIFT) as u16,
            payload: Payload { len, words: [words[1], words[2], words[3]] },
            expect: (w0 >> EXPECT_SHIFT) as u32,
        })
    }
}

/// A reply from a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Success or why not.
    pub status: Status,
    /// The generation of the instance that answered (or faulted).
    pub generation: u64,
    /// The payload (empty unless `status` is `Ok`).
    pub payload: Payload,
}

impl Reply {
    /// The message words. Generations past 48 bits are saturated.
    pub fn encode(&self) -> [u64; 4] {
        let w0 = self.status as u64
            | u64::from(self.payload.len) << OP_SHIFT
            | self.generation.min(GENERATION_MAX) << GENERATION_SHIFT;
        let [a, b, c] = self.payload.words;
        [w0, a, b, c]
    }

    /// The reply in `words`; `BadRequest` for an unknown status or a bad
    /// length (a reply the client cannot understand).
    pub fn decode(words: [u64; 4]) -> Result<Self, Status> {
        let status = Status::from_code(words[0] as u8).ok_or(Status::BadRequest)?;
        let len = (words[0] >> OP_SHIFT) as u8;
        if usize::from(len) > PAYLOAD_BYTES {
            return Err(Status::BadRequest);
        }
        Ok(Reply {
            status,
            generation: words[0] >> GENERATION_SHIFT,
            payload: Payload { len, words: [words[1], words[2], words[3]] },
        })
    }

    /// The reply as a `Result`: the payload, or the status.
    pub fn into_result(self) -> Result<Payload, Status> {
        match self.status {
            Status::Ok => Ok(self.payload),
            other => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        let r = Request::new(ServerId::Fs, 7, 0xBEEF).with(Payload::bytes(b"hello, world").unwrap());
        assert_eq!(Request::decode(r.encode()), Ok(r));
        let pinned = r.expecting(EXPECT_MAX).unwrap();
        assert_eq!(Request::decode(pinned.encode()), Ok(pinned));
        assert_eq!(r.expecting(EXPECT_MAX + 1), None);
        assert!(r.is_for(1) && r.is_for(9), "no expectation: any instance");
        let at_two = r.expecting(2).unwrap();
        assert!(at_two.is_for(2) && !at_two.is_for(3));
        let (bytes, len) = r.payload.to_bytes();
        assert_eq!(&bytes[..len], b"hello, world");
    }

    #[test]
    fn malformed_requests_are_refused() {
        assert_eq!(Request::decode([0xFF, 0, 0, 0]), Err(Status::BadRequest), "unknown server");
        assert_eq!(Request::decode([2 | 25 << 32, 0, 0, 0]), Err(Status::BadRequest), "payload too long");
        assert_eq!(Payload::bytes(&[0; PAYLOAD_BYTES + 1]), None);
    }

    #[test]
    fn a_one_word_payload_is_word_zero() {
        assert_eq!(Payload::word(7), Payload { len: 0, words: [7, 0, 0] });
    }

    #[test]
    fn replies_round_trip() {
        let r = Reply { status: Status::ServerFault, generation: 12345, payload: Payload::words([1, 2, 3]) };
        assert_eq!(Reply::decode(r.encode()), Ok(r));
        assert_eq!(Reply::decode(r.encode()).unwrap().into_result(), Err(Status::ServerFault));
        let big = Reply { status: Status::Ok, generation: u64::MAX, payload: Payload::EMPTY };
        assert_eq!(Reply::decode(big.encode()).unwrap().generation, GENERATION_MAX);
        assert_eq!(Reply::decode([99, 0, 0, 0]), Err(Status::BadRequest));
    }
}
