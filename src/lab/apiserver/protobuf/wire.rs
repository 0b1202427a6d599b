//! The protobuf wire format, read-only: varints, and fields as (number, value) pairs, over a byte
//! slice. Pure; every malformed input is an error, never a panic.

/// A field's value as it is on the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("truncated protobuf message")]
    Truncated,
    #[error("protobuf varint longer than 10 bytes")]
    VarintTooLong,
    #[error("unsupported protobuf wire type {0}")]
    WireType(u8),
    #[error("protobuf field number 0")]
    FieldZero,
}

/// Fields of one message, in wire order.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.buf.len() {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for i in 0..10 {
            let [byte] = self.take(1)? else {
                return Err(WireError::Truncated);
            };
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::VarintTooLong)
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// One element of a packed repeated number field.
    pub fn packed_varint(&mut self) -> Result<u64, WireError> {
        self.varint()
    }

    /// The next field, or `None` at the end of the message.
    pub fn next_field(&mut self) -> Result<Option<(u32, Value<'a>)>, WireError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| WireError::Truncated)?;
        if number == 0 {
            return Err(WireError::FieldZero);
        }
        let value = match (key & 7) as u8 {
            0 => Value::Varint(self.varint()?),
            1 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Value::Fixed64(u64::from_le_bytes(a))
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| WireError::Truncated)?;
                Value::Bytes(self.take(len)?)
            }
            5 => {
                let b = self.take(4)?;
                let mut a = [0u8; 4];
                a.copy_from_slice(b);
                Value::Fixed32(u32::from_le_bytes(a))
            }
            other => return Err(WireError::WireType(other)),
        };
        Ok(Some((number, value)))
    }
}

/// Encoding, for tests and benchmarks that need protobuf bodies as kubectl sends them.
pub mod encode {
    pub fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    pub fn bytes(out: &mut Vec<u8>, number: u32, data: &[u8]) {
        varint(out, (u64::from(number) << 3) | 2);
        varint(out, data.len() as u64);
        out.extend_from_slice(data);
    }

    pub fn uint(out: &mut Vec<u8>, number: u32, v: u64) {
        varint(out, u64::from(number) << 3);
        varint(out, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_encode_writes() {
        let mut buf = Vec::new();
        encode::uint(&mut buf, 3, 300);
        encode::bytes(&mut buf, 1, b"abc");
        encode::uint(&mut buf, 2, u64::MAX);
        let mut r = Reader::new(&buf);
        assert_eq!(r.next_field(), Ok(Some((3, Value::Varint(300)))));
        assert_eq!(r.next_field(), Ok(Some((1, Value::Bytes(b"abc")))));
        assert_eq!(r.next_field(), Ok(Some((2, Value::Varint(u64::MAX)))));
        assert_eq!(r.next_field(), Ok(None));
    }

    #[test]
    fn malformed_input_is_an_error() {
        for bad in [
            &[0x0a, 0x05, b'a'][..],
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
            &[0x0b],
            &[0x00, 0x01],
            &[0x09, 1, 2],
        ] {
            let mut r = Reader::new(bad);
            assert!(r.next_field().is_err(), "{bad:?}");
        }
    }
}
