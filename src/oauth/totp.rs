//! Time-based one-time passwords (RFC 6238 over HOTP, RFC 4226) as authenticator apps speak
//! them: HMAC-SHA1, 6 digits, 30-second steps, one step of drift either way; the secret as
//! unpadded base32 (RFC 4648 §6) and the `otpauth://totp/` key URI the apps scan.
//!
//! Pure: the caller passes the time (`now`, unix seconds) and the last step it accepted, and
//! records the step this module answers, so that a code is accepted once.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// RFC 6238 §4.1: "X represents the time step in seconds (default value X = 30 seconds)".
pub const STEP: i64 = 30;
/// Codes have 6 digits (RFC 4226 §5.3: "implementations MUST extract a 6-digit code at a
/// minimum"; what authenticator apps show).
pub const DIGITS: u32 = 6;
/// RFC 6238 §5.2: "We RECOMMEND that at most one time step is allowed as the network delay"
/// (and clock drift): the step before and the step after now are accepted too.
pub const DRIFT: i64 = 1;
/// Bytes of a generated secret: 160 bits, RFC 4226 §4 R6 ("We RECOMMEND a shared secret length
/// of 160 bits"), 32 base32 characters.
pub const SECRET_LEN: usize = 20;

/// RFC 4648 §6: the base32 alphabet.
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Why a typed code was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// Not six digits (spaces are allowed between them), so it cannot be a code at all.
    #[error("a code is six digits")]
    Malformed,
    /// Six digits, but not the code of any step in the window.
    #[error("the code is not correct")]
    Wrong,
    /// The code of a step at or before the last one accepted: a replay (RFC 6238 §5.2: "the
    /// verifier MUST NOT accept the second attempt of the OTP after the successful
    /// validation has been issued for the first OTP").
    #[error("this code was used already")]
    Replayed,
}

/// The time step that `now` falls in: RFC 6238 §4.2, `T = (Current Unix time - T0) / X` with
/// `T0 = 0`.
pub fn step_at(now: i64) -> i64 {
    now.div_euclid(STEP)
}

/// HOTP (RFC 4226 §5.3): HMAC-SHA1 of the 8-byte big-endian counter, dynamically truncated,
/// modulo 10^digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&counter.to_be_bytes());
    let hs = mac.finalize().into_bytes();
    // §5.4: "the low-order 4 bits of the last byte" give the offset of 4 bytes, whose first bit
    // is masked so the number is the same signed or unsigned.
    let offset = usize::from(hs[19] & 0x0f);
    let bin = u32::from_be_bytes([hs[offset] & 0x7f, hs[offset + 1], hs[offset + 2], hs[offset + 3]]);
    bin % 10u32.pow(digits)
}

/// The TOTP code of time step `step` (RFC 6238 §4.2: HOTP with `T` as the counter), zero-padded.
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    let value = hotp(secret, u64::try_from(step).unwrap_or(0), DIGITS);
    format!("{value:0width$}", width = DIGITS as usize)
}

/// The code an authenticator shows at `now`.
pub fn code_at(secret: &[u8], now: i64) -> String {
    code_at_step(secret, step_at(now))
}

/// The six digits of a typed code, or `None`: spaces and hyphens between digit groups (as
/// apps show them, `123 456`) are ignored.
pub fn normalize_code(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{a0}')).collect();
    (digits.len() == DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Checks `typed` against the steps from `now - DRIFT` to `now + DRIFT` and answers the step it
/// matched, which the caller stores as the factor's last accepted step. A match at or before
/// `last_step` is [`TotpError::Replayed`]: each step's code works once, and a code older than
/// one already used never works again. Every step of the window is compared, in constant time,
/// so the answer's timing does not tell which one matched.
pub fn verify(secret: &[u8], typed: &str, now: i64, last_step: Option<i64>) -> Result<i64, TotpError> {
    let typed = normalize_code(typed).ok_or(TotpError::Malformed)?;
    let current = step_at(now);
    let mut matched = None;
    for step in (current - DRIFT)..=(current + DRIFT) {
        let ok: bool = code_at_step(secret, step).as_bytes().ct_eq(typed.as_bytes()).into();
        if ok && matched.is_none() {
            matched = Some(step);
        }
    }
    let step = matched.ok_or(TotpError::Wrong)?;
    if last_step.is_some_and(|last| step <= last) {
        return Err(TotpError::Replayed);
    }
    Ok(step)
}

/// RFC 4648 §6 base32 without padding (authenticator apps take it so, and Google's key URI
/// format says "The padding specified in RFC 3548 section 2.2 is not required and should be
/// omitted").
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (case-insensitive; spaces and `=` padding ignored), or `None` for a character
/// outside the alphabet.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !matches!(c, ' ' | '=')) {
        let upper = c.to_ascii_uppercase();
        let value = ALPHABET.iter().position(|&a| char::from(a) == upper)? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// RFC 3986 §2.1 percent-encoding of everything but the unreserved characters (§2.3), for the
/// label and the query values of the key URI.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The key URI authenticator apps scan (Google Authenticator's "Key Uri Format"):
/// `otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`.
/// The issuer is in the label and the parameter both, as that format recommends; a `:` in
/// either part is percent-encoded, so the label splits at the one separator.
pub fn key_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        percent_encode(account),
        base32_encode(secret),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 seed: the ASCII of "12345678901234567890".
    const SEED: &[u8] = b"12345678901234567890";

    /// RFC 6238 Appendix B, the SHA1 rows: (time, T in hex, 8-digit TOTP).
    const VECTORS: [(i64, i64, &str); 6] = [
        (59, 0x1, "94287082"),
        (1_111_111_109, 0x23523EC, "07081804"),
        (1_111_111_111, 0x23523ED, "14050471"),
        (1_234_567_890, 0x273EF07, "89005924"),
        (2_000_000_000, 0x3F940AA, "69279037"),
        (20_000_000_000, 0x27BC86AA, "65353130"),
    ];

    #[test]
    fn rfc_6238_appendix_b_sha1_vectors() {
        for (time, t, expected) in VECTORS {
            assert_eq!(step_at(time), t, "T at {time}");
            let eight = hotp(SEED, t as u64, 8);
            assert_eq!(format!("{eight:08}"), expected, "TOTP at {time}");
            // The 6-digit code is the same number's last six digits (modulo 10^6).
            assert_eq!(code_at(SEED, time), expected[2..], "6-digit TOTP at {time}");
        }
    }

    #[test]
    fn rfc_4226_appendix_d_hotp_vectors() {
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (counter, value) in expected.into_iter().enumerate() {
            assert_eq!(hotp(SEED, counter as u64, 6), value, "HOTP({counter})");
        }
    }

    #[test]
    fn the_window_is_one_step_either_way_and_a_step_works_once() {
        let now = 1_234_567_890;
        let step = step_at(now);
        let code = |s| code_at_step(SEED, s);
        assert_eq!(verify(SEED, &code(step), now, None), Ok(step));
        assert_eq!(verify(SEED, &code(step - 1), now, None), Ok(step - 1));
        assert_eq!(verify(SEED, &code(step + 1), now, None), Ok(step + 1));
        assert_eq!(verify(SEED, &code(step - 2), now, None), Err(TotpError::Wrong));
        assert_eq!(verify(SEED, &code(step + 2), now, None), Err(TotpError::Wrong));
        // Accepted once: the same step again, or an older one, is a replay.
        assert_eq!(verify(SEED, &code(step), now, Some(step)), Err(TotpError::Replayed));
        assert_eq!(verify(SEED, &code(step - 1), now, Some(step)), Err(TotpError::Replayed));
        assert_eq!(verify(SEED, &code(step + 1), now, Some(step)), Ok(step + 1));
    }

    #[test]
    fn typed_codes_are_six_digits_with_optional_separators() {
        let now = 59;
        let code = code_at(SEED, now);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(verify(SEED, &spaced, now, None), Ok(step_at(now)));
        assert_eq!(verify(SEED, "12345", now, None), Err(TotpError::Malformed));
        assert_eq!(verify(SEED, "12345a", now, None), Err(TotpError::Malformed));
        assert_eq!(verify(SEED, "1234567", now, None), Err(TotpError::Malformed));
        assert_eq!(normalize_code("１２３４５６"), None, "fullwidth digits are not ASCII digits");
    }

    #[test]
    fn base32_follows_rfc_4648_section_10_without_padding() {
        let cases =
            [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB")];
        for (plain, encoded) in cases {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).as_deref(), Some(plain.as_bytes()));
        }
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("mzxw 6ytb oi======").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(base32_decode("MZXW1"), None, "1 is not in the alphabet");
        assert_eq!(base32_encode(SEED), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn the_key_uri_names_issuer_and_account() {
        let uri = key_uri("Yaoshi Test", "alice@example.com", SEED);
        assert_eq!(
            uri,
            "otpauth://totp/Yaoshi%20Test:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Yaoshi%20Test&algorithm=SHA1&digits=6&period=30"
        );
        assert!(key_uri("a:b", "c:d", SEED).starts_with("otpauth://totp/a%3Ab:c%3Ad?"));
    }
}
