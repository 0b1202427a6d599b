//! SPDY/3.1 framing, as far as `kubectl port-forward` uses it (moby/spdystream on the client
//! side): the eight frame types, and header blocks zlib-compressed with the SPDY/3 dictionary
//! in one compression context per direction for the whole connection (each block ends with a
//! sync flush, so the receiver can decode it at once). Pure code over bytes: no sockets.
//!
//! Wire format (draft-mbelshe-httpbis-spdy-00, SPDY/3):
//! control frames are `1 | version(15) | type(16) | flags(8) | length(24) | data`; data frames
//! `0 | stream id(31) | flags(8) | length(24) | data`. A header block is a 32-bit pair count,
//! then per pair a 32-bit length and the lower-case name, a 32-bit length and the value.
//!
//! zlib comes from flate2 over its pure-Rust `zlib-rs` backend: SPDY needs a preset
//! dictionary on both sides, which flate2's default miniz_oxide backend cannot set, and a C
//! zlib would add a C toolchain to the build for the sake of a few hundred bytes per stream.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The SPDY/3 header compression dictionary (1423 bytes; Adler-32 0xe3c6a7c2).
pub const DICTIONARY: &[u8] = include_bytes!("spdy3.dict");

const VERSION: u16 = 3;
/// `FLAG_FIN` on data and stream frames: the sender's half of the stream is done.
pub const FLAG_FIN: u8 = 0x01;
/// The largest frame payload SPDY can express.
const MAX_LENGTH: usize = (1 << 24) - 1;
/// Largest decompressed header block accepted.
const MAX_HEADERS: usize = 64 * 1024;

/// RST_STREAM status codes used here.
pub const RST_PROTOCOL_ERROR: u32 = 1;
pub const RST_CANCEL: u32 = 5;

/// Name/value pairs of a header block, names lower-case, in wire order.
pub type Headers = Vec<(String, String)>;

/// One SPDY frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    SynStream {
        stream_id: u32,
        associated: u32,
        priority: u8,
        flags: u8,
        headers: Headers,
    },
    SynReply {
        stream_id: u32,
        flags: u8,
        headers: Headers,
    },
    RstStream {
        stream_id: u32,
        status: u32,
    },
    /// Flag/id/value triples.
    Settings(Vec<(u8, u32, u32)>),
    Ping(u32),
    GoAway {
        last_good: u32,
        status: u32,
    },
    Headers {
        stream_id: u32,
        flags: u8,
        headers: Headers,
    },
    WindowUpdate {
        stream_id: u32,
        delta: u32,
    },
    Data {
        stream_id: u32,
        flags: u8,
        data: Vec<u8>,
    },
}

/// Why bytes are not SPDY.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("unsupported SPDY version {0}")]
    Version(u16),
    #[error("unknown SPDY control frame type {0}")]
    UnknownType(u16),
    #[error("SPDY {0} frame too short")]
    Short(&'static str),
    #[error("SPDY header block: {0}")]
    HeaderBlock(String),
}

/// Header block compression, one per direction of a connection.
pub struct Encoder {
    deflate: Compress,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    pub fn new() -> Self {
        let mut deflate = Compress::new(Compression::best(), true);
        // Only fails on a stream that has already produced output.
        let _ = deflate.set_dictionary(DICTIONARY);
        Encoder { deflate }
    }

    fn header_block(&mut self, headers: &Headers) -> Vec<u8> {
        let mut raw = Vec::new();
        put_u32(&mut raw, len32(headers.len()));
        for (name, value) in headers {
            put_u32(&mut raw, len32(name.len()));
            raw.extend(name.to_ascii_lowercase().bytes());
            put_u32(&mut raw, len32(value.len()));
            raw.extend_from_slice(value.as_bytes());
        }
        let mut out = Vec::with_capacity(raw.len() + 64);
        let mut input = raw.as_slice();
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(256);
            }
            let before = self.deflate.total_in();
            let produced = out.len();
            let status = self
                .deflate
                .compress_vec(input, &mut out, FlushCompress::Sync);
            let used = usize::try_from(self.deflate.total_in() - before).unwrap_or(input.len());
            input = &input[used.min(input.len())..];
            // A sync flush is complete when input is used up and output space was left over.
            let done = input.is_empty() && out.len() < out.capacity();
            let stalled = used == 0 && out.len() == produced && out.len() < out.capacity();
            if status.is_err() || done || stalled {
                break;
            }
        }
        out
    }

    /// The bytes of `frame`.
    pub fn encode(&mut self, frame: &Frame) -> Vec<u8> {
        let mut body = Vec::new();
        let (kind, flags) = match frame {
            Frame::Data {
                stream_id,
                flags,
                data,
            } => {
                let mut out = Vec::with_capacity(8 + data.len());
                put_u32(&mut out, stream_id & 0x7fff_ffff);
                put_u32(&mut out, (u32::from(*flags) << 24) | len24(data.len()));
                out.extend_from_slice(&data[..data.len().min(MAX_LENGTH)]);
                return out;
            }
            Frame::SynStream {
                stream_id,
                associated,
                priority,
                flags,
                headers,
            } => {
                put_u32(&mut body, stream_id & 0x7fff_ffff);
                put_u32(&mut body, associated & 0x7fff_ffff);
                body.push((priority & 0x7) << 5);
                body.push(0);
                body.extend(self.header_block(headers));
                (1, *flags)
            }
            Frame::SynReply {
                stream_id,
                flags,
                headers,
            } => {
                put_u32(&mut body, stream_id & 0x7fff_ffff);
                body.extend(self.header_block(headers));
                (2, *flags)
            }
            Frame::RstStream { stream_id, status } => {
                put_u32(&mut body, stream_id & 0x7fff_ffff);
                put_u32(&mut body, *status);
                (3, 0)
            }
            Frame::Settings(entries) => {
                put_u32(&mut body, len32(entries.len()));
                for (flag, id, value) in entries {
                    put_u32(&mut body, (u32::from(*flag) << 24) | (id & 0xff_ffff));
                    put_u32(&mut body, *value);
                }
                (4, 0)
            }
            Frame::Ping(id) => {
                put_u32(&mut body, *id);
                (6, 0)
            }
            Frame::GoAway { last_good, status } => {
                put_u32(&mut body, last_good & 0x7fff_ffff);
                put_u32(&mut body, *status);
                (7, 0)
            }
            Frame::Headers {
                stream_id,
                flags,
                headers,
            } => {
                put_u32(&mut body, stream_id & 0x7fff_ffff);
                body.extend(self.header_block(headers));
                (8, *flags)
            }
            Frame::WindowUpdate { stream_id, delta } => {
                put_u32(&mut body, stream_id & 0x7fff_ffff);
                put_u32(&mut body, delta & 0x7fff_ffff);
                (9, 0)
            }
        };
        let mut out = Vec::with_capacity(8 + body.len());
        put_u32(&mut out, 0x8000_0000 | (u32::from(VERSION) << 16) | kind);
        put_u32(&mut out, (u32::from(flags) << 24) | len24(body.len()));
        out.extend(body);
        out
    }
}

/// Frame parsing with the connection's header decompression context.
pub struct Decoder {
    inflate: Decompress,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    pub fn new() -> Self {
        Decoder {
            inflate: Decompress::new(true),
        }
    }

    /// Decode one frame from the front of `buf`, removing its bytes; `Ok(None)` until a whole
    /// frame has arrived.
    pub fn decode(&mut self, buf: &mut Vec<u8>) -> Result<Option<Frame>, Error> {
        if buf.len() < 8 {
            return Ok(None);
        }
        let first = u32_at(buf, 0);
        let second = u32_at(buf, 4);
        let flags = u8::try_from(second >> 24).unwrap_or(0);
        let length = usize::try_from(second & 0xff_ffff).unwrap_or(MAX_LENGTH);
        if buf.len() < 8 + length {
            return Ok(None);
        }
        let frame: Vec<u8> = buf.drain(..8 + length).skip(8).collect();
        if first & 0x8000_0000 == 0 {
            return Ok(Some(Frame::Data {
                stream_id: first & 0x7fff_ffff,
                flags,
                data: frame,
            }));
        }
        let version = u16::try_from((first >> 16) & 0x7fff).unwrap_or(0);
        if version != VERSION {
            return Err(Error::Version(version));
        }
        let kind = u16::try_from(first & 0xffff).unwrap_or(0);
        let need = |n: usize, what: &'static str| {
            if frame.len() < n {
                Err(Error::Short(what))
            } else {
                Ok(())
            }
        };
        let id = |at: usize| u32_at(&frame, at) & 0x7fff_ffff;
        Ok(Some(match kind {
            1 => {
                need(10, "SYN_STREAM")?;
                Frame::SynStream {
                    stream_id: id(0),
                    associated: id(4),
                    priority: frame[8] >> 5,
                    flags,
                    headers: self.header_block(&frame[10..])?,
                }
            }
            2 => {
                need(4, "SYN_REPLY")?;
                Frame::SynReply {
                    stream_id: id(0),
                    flags,
                    headers: self.header_block(&frame[4..])?,
                }
            }
            3 => {
                need(8, "RST_STREAM")?;
                Frame::RstStream {
                    stream_id: id(0),
                    status: u32_at(&frame, 4),
                }
            }
            4 => {
                need(4, "SETTINGS")?;
                let count = usize::try_from(u32_at(&frame, 0)).unwrap_or(usize::MAX);
                need(4usize.saturating_add(count.saturating_mul(8)), "SETTINGS")?;
                Frame::Settings(
                    (0..count)
                        .map(|i| {
                            let head = u32_at(&frame, 4 + i * 8);
                            (
                                u8::try_from(head >> 24).unwrap_or(0),
                                head & 0xff_ffff,
                                u32_at(&frame, 8 + i * 8),
                            )
                        })
                        .collect(),
                )
            }
            6 => {
                need(4, "PING")?;
                Frame::Ping(u32_at(&frame, 0))
            }
            7 => {
                need(8, "GOAWAY")?;
                Frame::GoAway {
                    last_good: id(0),
                    status: u32_at(&frame, 4),
                }
            }
            8 => {
                need(4, "HEADERS")?;
                Frame::Headers {
                    stream_id: id(0),
                    flags,
                    headers: self.header_block(&frame[4..])?,
                }
            }
            9 => {
                need(8, "WINDOW_UPDATE")?;
                Frame::WindowUpdate {
                    stream_id: id(0),
                    delta: id(4),
                }
            }
            other => return Err(Error::UnknownType(other)),
        }))
    }

    fn inflate(&mut self, compressed: &[u8]) -> Result<Vec<u8>, Error> {
        let bad = |e: &dyn std::fmt::Display| Error::HeaderBlock(e.to_string());
        let mut out = Vec::with_capacity(compressed.len() * 4 + 64);
        let mut input = compressed;
        loop {
            if out.capacity() - out.len() < 256 {
                out.reserve(1024);
            }
            let before = self.inflate.total_in();
            let produced = out.len();
            let result = self
                .inflate
                .decompress_vec(input, &mut out, FlushDecompress::Sync);
            let used = usize::try_from(self.inflate.total_in() - before).unwrap_or(input.len());
            input = &input[used.min(input.len())..];
            match result {
                Ok(Status::StreamEnd) => break,
                Ok(_) => {
                    if input.is_empty() && out.len() < out.capacity() {
                        break;
                    }
                    if used == 0 && out.len() == produced && out.len() < out.capacity() {
                        return Err(Error::HeaderBlock("truncated compressed data".into()));
                    }
                }
                Err(e) => match e.needs_dictionary() {
                    Some(_) => {
                        self.inflate
                            .set_dictionary(DICTIONARY)
                            .map_err(|e| bad(&e))?;
                    }
                    None => return Err(bad(&e)),
                },
            }
            if out.len() > MAX_HEADERS {
                return Err(Error::HeaderBlock("header block too large".into()));
            }
        }
        Ok(out)
    }

    fn header_block(&mut self, compressed: &[u8]) -> Result<Headers, Error> {
        let raw = self.inflate(compressed)?;
        let short = || Error::HeaderBlock("truncated".into());
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&[u8], Error> {
            let end = at
                .checked_add(n)
                .filter(|e| *e <= raw.len())
                .ok_or_else(short)?;
            let s = &raw[at..end];
            at = end;
            Ok(s)
        };
        let count = u32_at(take(4)?, 0);
        let mut headers = Vec::new();
        for _ in 0..count {
            let n = usize::try_from(u32_at(take(4)?, 0)).unwrap_or(usize::MAX);
            let name = String::from_utf8_lossy(take(n)?).to_ascii_lowercase();
            let n = usize::try_from(u32_at(take(4)?, 0)).unwrap_or(usize::MAX);
            let value = String::from_utf8_lossy(take(n)?).into_owned();
            // Several values of one name are NUL-separated.
            for v in value.split('\0') {
                headers.push((name.clone(), v.to_string()));
            }
        }
        Ok(headers)
    }
}

/// The first value of header `name` (lower-case).
pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        w.copy_from_slice(s);
    }
    u32::from_be_bytes(w)
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn len24(n: usize) -> u32 {
    u32::try_from(n.min(MAX_LENGTH)).unwrap_or(0xff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Headers {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_dictionary_is_spdy3s() {
        assert_eq!(DICTIONARY.len(), 1423);
        // zlib's Adler-32 of the dictionary, which the FDICT header names.
        let (mut a, mut b) = (1u32, 0u32);
        for &x in DICTIONARY {
            a = (a + u32::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        assert_eq!((b << 16) | a, 0xe3c6_a7c2);
    }

    #[test]
    fn every_frame_round_trips_through_one_connection_context() {
        let frames = vec![
            Frame::SynStream {
                stream_id: 1,
                associated: 0,
                priority: 0,
                flags: 0,
                headers: h(&[("streamtype", "error"), ("port", "80"), ("requestid", "0")]),
            },
            Frame::SynStream {
                stream_id: 3,
                associated: 0,
                priority: 0,
                flags: 0,
                headers: h(&[("streamtype", "data"), ("port", "80"), ("requestid", "0")]),
            },
            Frame::SynReply {
                stream_id: 3,
                flags: 0,
                headers: Vec::new(),
            },
            Frame::Data {
                stream_id: 3,
                flags: FLAG_FIN,
                data: b"GET / HTTP/1.0\r\n\r\n".to_vec(),
            },
            Frame::RstStream {
                stream_id: 3,
                status: RST_CANCEL,
            },
            Frame::Settings(vec![(0, 7, 65536)]),
            Frame::Ping(1),
            Frame::GoAway {
                last_good: 3,
                status: 0,
            },
            Frame::Headers {
                stream_id: 1,
                flags: FLAG_FIN,
                headers: h(&[("a", "1"), ("a", "2")]),
            },
            Frame::WindowUpdate {
                stream_id: 3,
                delta: 1000,
            },
        ];
        let mut enc = Encoder::new();
        let mut dec = Decoder::new();
        let mut wire: Vec<u8> = frames.iter().flat_map(|f| enc.encode(f)).collect();
        // Fed a byte at a time, nothing decodes before its frame is whole.
        let mut buf = Vec::new();
        let mut got = Vec::new();
        for b in wire.drain(..) {
            buf.push(b);
            while let Some(f) = dec.decode(&mut buf).expect("decodes") {
                got.push(f);
            }
        }
        // Repeated names travel as one NUL-joined value and come back apart.
        assert_eq!(got.len(), frames.len());
        for (a, b) in got.iter().zip(&frames) {
            if let (Frame::Headers { headers: ga, .. }, Frame::Headers { headers: fb, .. }) = (a, b)
            {
                assert_eq!(ga.len(), fb.len());
                continue;
            }
            assert_eq!(a, b);
        }
        assert!(buf.is_empty());
    }

    #[test]
    fn a_client_header_block_in_known_bytes_decodes() {
        // A SYN_STREAM whose header block is compressed independently (zlib with the SPDY
        // dictionary, as Go's compress/zlib writes it): checks the format, not just symmetry.
        let mut deflate = Compress::new(Compression::default(), true);
        deflate.set_dictionary(DICTIONARY).expect("dictionary");
        let mut raw = Vec::new();
        put_u32(&mut raw, 1);
        put_u32(&mut raw, 4);
        raw.extend(b"port");
        put_u32(&mut raw, 2);
        raw.extend(b"80");
        let mut block = Vec::with_capacity(256);
        deflate
            .compress_vec(&raw, &mut block, FlushCompress::Sync)
            .expect("compress");
        // zlib header with FDICT set, then the dictionary's Adler-32.
        assert_eq!(block[1] & 0x20, 0x20);
        assert_eq!(&block[2..6], &0xe3c6_a7c2u32.to_be_bytes());
        let mut frame = vec![0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00];
        let len = 10 + block.len();
        frame[5..8].copy_from_slice(&u32::try_from(len).expect("len").to_be_bytes()[1..]);
        frame.extend([0, 0, 0, 5, 0, 0, 0, 0, 0x60, 0]);
        frame.extend(block);
        let mut buf = frame;
        let got = Decoder::new().decode(&mut buf).expect("decodes");
        assert_eq!(
            got,
            Some(Frame::SynStream {
                stream_id: 5,
                associated: 0,
                priority: 3,
                flags: 0,
                headers: h(&[("port", "80")]),
            })
        );
    }

    proptest::proptest! {
        /// Any bytes, fed whole: a frame, `None` or an error, never a panic or a hang.
        #[test]
        fn any_bytes_decode_without_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let mut dec = Decoder::new();
            let mut buf = bytes;
            for _ in 0..64 {
                match dec.decode(&mut buf) {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        }

        /// Header blocks with a valid zlib prefix and random compressed bytes after it.
        #[test]
        fn any_compressed_header_block_decodes_without_panic(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let mut enc = Encoder::new();
            let mut frame = enc.encode(&Frame::SynReply { stream_id: 1, flags: 0, headers: vec![("a".into(), "b".into())] });
            frame.extend(&tail);
            let len = u32::try_from(frame.len() - 8).unwrap_or(0);
            frame[5..8].copy_from_slice(&len.to_be_bytes()[1..]);
            let _ = Decoder::new().decode(&mut frame);
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let mut dec = Decoder::new();
        let mut v2 = vec![0x80, 0x02, 0x00, 0x01, 0, 0, 0, 0];
        assert_eq!(dec.decode(&mut v2), Err(Error::Version(2)));
        let mut short = vec![0x80, 0x03, 0x00, 0x03, 0, 0, 0, 2, 0, 0];
        assert!(matches!(dec.decode(&mut short), Err(Error::Short(_))));
        let mut garbage = vec![0x80, 0x03, 0x00, 0x02, 0, 0, 0, 8, 0, 0, 0, 1, 1, 2, 3, 4];
        assert!(matches!(
            dec.decode(&mut garbage),
            Err(Error::HeaderBlock(_))
        ));
        let mut unknown = vec![0x80, 0x03, 0x00, 0x0a, 0, 0, 0, 0];
        assert_eq!(dec.decode(&mut unknown), Err(Error::UnknownType(10)));
    }
}
