//! HMAC (RFC 2104) over the `sha2` and `sha1` digests. The keyed inner and outer states are
//! values: a key used for many signatures (a day's SigV4 signing key) pays for its two padded
//! blocks once, and every later signature clones them.

use sha2::digest::core_api::BlockSizeUser;
use sha2::digest::{Digest, Output};

/// Longest block of the digests used here (SHA-256 and SHA-1: 64 bytes; room for 128).
const MAX_BLOCK: usize = 128;

/// An HMAC keyed for digest `D`, ready for data.
#[derive(Clone)]
pub(crate) struct Hmac<D> {
    inner: D,
    outer: D,
}

impl<D: Digest + BlockSizeUser + Clone> Hmac<D> {
    /// Keys the HMAC with `key` (any length: longer keys are hashed first).
    pub(crate) fn new(key: &[u8]) -> Self {
        let block = D::block_size().min(MAX_BLOCK);
        let mut padded = [0u8; MAX_BLOCK];
        if key.len() > block {
            let hashed = D::digest(key);
            padded[..hashed.len()].copy_from_slice(&hashed);
        } else {
            padded[..key.len()].copy_from_slice(key);
        }
        let keyed = |pad: u8| {
            let mut state = D::new();
            let mut buf = [0u8; MAX_BLOCK];
            for (b, k) in buf[..block].iter_mut().zip(&padded[..block]) {
                *b = k ^ pad;
            }
            state.update(&buf[..block]);
            state
        };
        Hmac {
            inner: keyed(0x36),
            outer: keyed(0x5c),
        }
    }

    /// Adds message bytes.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// The MAC of everything added.
    pub(crate) fn finalize(self) -> Output<D> {
        let mut outer = self.outer;
        outer.update(self.inner.finalize());
        outer.finalize()
    }
}

impl<D> std::fmt::Debug for Hmac<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hmac(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::Hmac;
    use sha1::Sha1;
    use sha2::Sha256;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn mac<D: sha2::Digest + sha2::digest::core_api::BlockSizeUser + Clone>(
        key: &[u8],
        data: &[u8],
    ) -> String {
        let mut m = Hmac::<D>::new(key);
        // In two pieces, and from a clone: the keyed state is reusable.
        let (a, b) = data.split_at(data.len() / 2);
        m.update(a);
        let mut copy = m.clone();
        copy.update(b);
        hex(&copy.finalize())
    }

    #[test]
    fn rfc_4231_and_2202_vectors() {
        let long_data = b"Test Using Larger Than Block-Size Key - Hash Key First";
        let cases_256: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                long_data,
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, data, want) in cases_256 {
            assert_eq!(mac::<Sha256>(key, data), want);
        }
        let cases_1: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b617318655057264e28bc0b6fb378c8ef146be00",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
            ),
            (
                &[0xaa; 80],
                long_data,
                "aa4ae5e15272d00e95705637ce8a3b55ed402112",
            ),
        ];
        for (key, data, want) in cases_1 {
            assert_eq!(mac::<Sha1>(key, data), want);
        }
    }
}
