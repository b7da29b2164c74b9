//! A little-endian reader over a characteristic value that knows which field it is
//! reading and where, so every failure becomes a [`DecodeError`] naming both.

use super::error::{DecodeError, DecodeProblem};
use super::ieee11073::{Float32, Sfloat};

/// Reads fields in order from a payload; never panics, whatever the bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
    /// The field read last, named by [`Reader::finish`] when bytes are left over.
    last: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            offset: 0,
            last: "Flags",
        }
    }

    /// The offset of the next field.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.offset)
    }

    /// Takes `n` bytes for `field`.
    pub fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], DecodeError> {
        let available = self.remaining();
        if available < n {
            return Err(DecodeError::new(
                field,
                self.offset,
                DecodeProblem::Truncated {
                    needed: n,
                    available,
                },
            ));
        }
        let start = self.offset;
        self.offset += n;
        self.last = field;
        Ok(&self.bytes[start..start + n])
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(field, N)?);
        Ok(out)
    }

    /// A `uint8`.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// A `uint16`, little-endian.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    /// A `sint16`, little-endian.
    pub fn i16(&mut self, field: &'static str) -> Result<i16, DecodeError> {
        Ok(i16::from_le_bytes(self.array(field)?))
    }

    /// A `uint24`, little-endian.
    pub fn u24(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let [a, b, c] = self.array(field)?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }

    /// A `uint32`, little-endian.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    /// An IEEE-11073 16-bit SFLOAT (`medfloat16`).
    pub fn sfloat(&mut self, field: &'static str) -> Result<Sfloat, DecodeError> {
        Ok(Sfloat::from_raw(self.u16(field)?))
    }

    /// An IEEE-11073 32-bit FLOAT (`medfloat32`).
    pub fn float32(&mut self, field: &'static str) -> Result<Float32, DecodeError> {
        Ok(Float32::from_raw32(self.u32(field)?))
    }

    /// Reads an optional field with `read` when `present` (its flag bit is set).
    pub fn optional<T>(
        &mut self,
        present: bool,
        read: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        if present {
            read(self).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Ends the payload: refuses bytes left after the last field read (the last one
    /// the flags announced).
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(DecodeError::new(
                self.last,
                self.offset,
                DecodeProblem::TrailingBytes { extra },
            )),
        }
    }
}

/// Refuses flag bits the specification reserves (`reserved_mask` set in `flags`).
pub fn no_reserved_bits(
    field: &'static str,
    offset: usize,
    flags: u32,
    reserved_mask: u32,
) -> Result<(), DecodeError> {
    match flags & reserved_mask {
        0 => Ok(()),
        raw => Err(DecodeError::new(
            field,
            offset,
            DecodeProblem::Reserved { raw },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_names_the_short_field() {
        let mut r = Reader::new(&[0x01, 0x34, 0x12, 0xAA, 0xBB, 0xCC]);
        assert_eq!(r.u8("Flags"), Ok(1));
        assert_eq!(r.u16("Sequence Number"), Ok(0x1234));
        assert_eq!(r.u24("Status"), Ok(0xCCBBAA));
        let err = r.u8("User ID").expect_err("empty");
        assert_eq!(
            err,
            DecodeError::new(
                "User ID",
                6,
                DecodeProblem::Truncated {
                    needed: 1,
                    available: 0
                }
            )
        );
        assert_eq!(err.to_string(), "User ID at byte 6: needs 1 bytes, 0 left");
    }

    #[test]
    fn finish_refuses_leftovers() {
        let mut r = Reader::new(&[0, 1, 2]);
        r.u8("Flags").expect("one");
        assert_eq!(
            r.finish(),
            Err(DecodeError::new(
                "Flags",
                1,
                DecodeProblem::TrailingBytes { extra: 2 }
            ))
        );
    }
}
