//! Identifiers made from content: hex digests that stay the same for the same input.

use std::fmt::Write;

use sha2::{Digest, Sha256};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The first 16 bytes, in hex, of the SHA-256 of `parts` joined by NUL bytes.
pub fn short_hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h.update([0]);
        }
        h.update(part);
    }
    hex(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_hex_of_the_joined_parts() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
        assert_eq!(short_hash(&[b"a", b"b"]), hex(&Sha256::digest(b"a\0b")[..16]));
        assert_eq!(short_hash(&[b"a", b""]), hex(&Sha256::digest(b"a\0")[..16]));
    }
}
