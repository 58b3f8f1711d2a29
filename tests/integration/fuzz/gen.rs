//! The fuzzer's generator: a seeded PRNG and the mutations requests are built from. The same
//! seed gives every worker the same sequence of requests, so a failure can be replayed.

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    /// A generator for one worker of one endpoint group.
    pub fn new(seed: u64, stream: u64) -> Self {
        Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `n` random bytes of any value.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// `n` random printable ASCII characters.
    pub fn printable(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| b' ' + (self.next() % 95) as u8).collect()
    }
}

/// Values with a meaning somewhere: numbers at the edges, URLs, scopes, code points that
/// trouble parsers and templates.
const ODD_VALUES: &[&str] = &[
    "null",
    "-1",
    "0",
    "99999999999999999999999",
    "true",
    " ",
    "+",
    "%",
    "%%",
    "=",
    "&",
    "\\",
    "\"",
    "'",
    "..",
    "../../etc/passwd",
    "openid",
    "openid profile email read write",
    "openid\u{0}profile",
    "https://evil.example/cb",
    "javascript:alert(1)",
    "http://127.0.0.1:1/cb",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "ключ🔑钥匙",
    "\u{202e}gnp.exe",
    "\r\nSet-Cookie: x=1",
    "none",
    "login consent",
    "S256",
    "plain",
    "code id_token token",
    "form_post",
    "fragment",
    "yat_",
    "yrt_",
    "yac_",
];

/// Escapes that do not decode, or decode to bytes that are not UTF-8.
const BROKEN_ESCAPES: &[&[u8]] = &[b"%zz", b"%", b"%4", b"%FF%FE", b"%C3%28", b"%00", b"%E2%82", b"+%2"];
/// Pairs and separators a form should not have.
const JUNK_PAIRS: &[&[u8]] = &[b"", b"=", b"==", b"novalue", b"=orphan", b"a=b=c", b";", b"%", b"\xff=\xfe"];

/// Form fields: each name with values the server knows, most important first.
pub type Fields<'a> = &'a [(&'a str, &'a [&'a str])];

/// A raw value (before any encoding): often one the server knows, else a mutation.
pub fn value(rng: &mut Rng, known: &[&str]) -> Vec<u8> {
    match rng.below(12) {
        0..=3 if !known.is_empty() => rng.pick(known).as_bytes().to_vec(),
        4 => Vec::new(),
        5 => {
            let n = 1 + rng.below(40);
            rng.printable(n)
        }
        6 => {
            let n = 1 + rng.below(40);
            rng.bytes(n)
        }
        7 => vec![b'a'; 1000 + rng.below(8000)],
        8 => rng.pick(ODD_VALUES).as_bytes().to_vec(),
        9 if !known.is_empty() => {
            let v = rng.pick(known).as_bytes().to_vec();
            mutate(rng, v)
        }
        10 if rng.chance(10) => vec![b'v'; 60 * 1024 + rng.below(8 * 1024)],
        _ => {
            let n = 1 + rng.below(12);
            rng.printable(n)
        }
    }
}

/// A known value, slightly wrong: cut, a byte changed, something appended or doubled.
fn mutate(rng: &mut Rng, mut v: Vec<u8>) -> Vec<u8> {
    match rng.below(4) {
        0 => v.truncate(rng.below(v.len() + 1)),
        1 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] = rng.next() as u8;
        }
        2 => {
            let n = 1 + rng.below(8);
            v.extend(rng.bytes(n));
        }
        _ => v = [v.clone(), b" ".to_vec(), v].concat(),
    }
    v
}

/// `v` as it goes into a query or form: mostly encoded correctly, sometimes raw (any byte,
/// including `&`, `=` and bytes that are not UTF-8), sometimes with broken escapes.
pub fn encode(rng: &mut Rng, v: &[u8]) -> Vec<u8> {
    match rng.below(10) {
        0 => v.to_vec(),
        1 => {
            let mut out = percent(v);
            let at = rng.below(out.len() + 1);
            let broken = rng.pick(BROKEN_ESCAPES);
            out.splice(at..at, broken.iter().copied());
            out
        }
        _ => percent(v),
    }
}

/// `application/x-www-form-urlencoded` encoding of every byte but the unreserved ones.
pub fn percent(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    for &b in v {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b),
            b' ' => out.push(b'+'),
            _ => out.extend_from_slice(format!("%{b:02X}").as_bytes()),
        }
    }
    out
}

/// A form body or query string over `fields` (name, values the server knows), listed most
/// important first. Each request has its own wildness: in a mild one most fields are present
/// with a value the server knows, so the request gets past the first checks; in a wild one
/// fields are missing, repeated, renamed, with random values and broken escapes, among pairs
/// nobody asked for and malformed separators.
pub fn pairs(rng: &mut Rng, fields: Fields<'_>) -> Vec<u8> {
    let wild = *rng.pick(&[5, 20, 60]);
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for (i, (name, known)) in fields.iter().enumerate() {
        let present = if i < 2 { 90 } else { 45 };
        if !rng.chance(wild) {
            if rng.chance(present) {
                let v = percent(rng.pick(known).as_bytes());
                parts.push([name.as_bytes(), b"=", &v].concat());
            }
            continue;
        }
        let times = if rng.chance(25) { 2 + rng.below(2) } else { 1 };
        for _ in 0..times {
            let name = if rng.chance(15) {
                let mutated = mutate(rng, name.as_bytes().to_vec());
                encode(rng, &mutated)
            } else {
                name.as_bytes().to_vec()
            };
            let v = value(rng, known);
            let v = encode(rng, &v);
            parts.push([name, b"=".to_vec(), v].concat());
        }
    }
    if rng.chance(wild) {
        for _ in 0..1 + rng.below(3) {
            let junk = rng.pick(JUNK_PAIRS);
            parts.push(junk.to_vec());
        }
    }
    if rng.chance(wild / 5) {
        for i in 0..1 + rng.below(200) {
            parts.push(format!("p{i}=x").into_bytes());
        }
    }
    // Shuffle (Fisher-Yates).
    for i in (1..parts.len()).rev() {
        parts.swap(i, rng.below(i + 1));
    }
    let sep: &[u8] = if rng.chance(wild / 10) { b"&&" } else { b"&" };
    parts.join(sep)
}

/// One request, written byte for byte.
pub struct Req {
    /// The method.
    pub method: Vec<u8>,
    /// The request target.
    pub target: Vec<u8>,
    /// The header fields (without `Content-Length`, which is added).
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
    /// Sent as chunks instead of with a length.
    pub chunked: bool,
    /// The head is not valid HTTP, or over the head limits: hyper itself may answer (400, 414,
    /// 431, with an empty body) before any route runs.
    pub broken_head: bool,
    /// The target is the endpoint's own path (an answer is the endpoint's, not a 404).
    pub routed: bool,
}

impl Req {
    /// A request for `path` (the endpoint's own) with `method`.
    pub fn new(method: &str, path: &str) -> Self {
        Req {
            method: method.as_bytes().to_vec(),
            target: path.as_bytes().to_vec(),
            headers: Vec::new(),
            body: Vec::new(),
            chunked: false,
            broken_head: false,
            routed: true,
        }
    }

    /// Adds a header field.
    pub fn header(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        self.headers.push((name.as_bytes().to_vec(), value.into()));
    }

    /// Whether it is a HEAD request (whose answer has no body).
    pub fn is_head(&self) -> bool {
        self.method == b"HEAD"
    }

    /// The bytes on the wire.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = [&self.method[..], b" ", &self.target, b" HTTP/1.1\r\n"].concat();
        for (name, value) in &self.headers {
            out.extend_from_slice(&[&name[..], b": ", value, b"\r\n"].concat());
        }
        if self.chunked {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            for chunk in self.body.chunks(7919) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        } else {
            out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes());
            out.extend_from_slice(&self.body);
        }
        out
    }

    /// A short, printable account of the request for a failure message.
    pub fn describe(&self) -> String {
        let mut head = self.bytes();
        head.truncate(600);
        format!("{:?}", String::from_utf8_lossy(&head))
    }
}

/// Mutations every endpoint gets: an odd method now and then, a mangled path, odd or
/// missing framing headers, extra and oversized header fields.
pub fn mangle(rng: &mut Rng, req: &mut Req, host: &str) {
    if rng.chance(6) {
        req.method =
            rng.pick(&["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO", "post"]).as_bytes().to_vec();
    }
    match rng.below(30) {
        0 => {
            req.target.push(b'/');
            req.routed = false;
        }
        1 => {
            req.target = [&b"/o/%2e%2e"[..], &req.target].concat();
            req.routed = false;
        }
        2 => {
            let n = 1 + rng.below(20);
            req.target.extend(rng.bytes(n));
            req.broken_head = true;
            req.routed = false;
        }
        3 => {
            req.target.extend_from_slice(b"?");
            let n = rng.below(3000);
            req.target.extend(percent(&rng.bytes(n)));
        }
        _ => {}
    }
    match rng.below(20) {
        0 => {}
        1 => {
            req.header("Host", host);
            req.header("Host", "evil.example");
        }
        2 => req.header("Host", rng.printable(30)),
        _ => req.header("Host", host),
    }
    for _ in 0..rng.below(4) {
        let name = format!("X-Fuzz-{}", rng.below(1000));
        let n = rng.below(60);
        let value = if rng.chance(10) { rng.bytes(1 + n / 2) } else { rng.printable(n) };
        req.header(&name, value);
    }
    match rng.below(60) {
        // Near the head limits (32 KiB, 100 fields), on either side.
        0 => {
            let n = 30 * 1024 + rng.below(4 * 1024);
            req.header("X-Large", vec![b'l'; n]);
        }
        1 => {
            let n = 90 + rng.below(20);
            for i in 0..n {
                req.header(&format!("X-Many-{i}"), "m");
            }
        }
        // Framing hyper must refuse.
        2 => {
            req.header("Content-Length", "abc");
            req.broken_head = true;
        }
        3 => {
            req.header("Content-Length", "1");
            req.header("Content-Length", "2");
            req.broken_head = true;
        }
        4 | 5 => req.chunked = true,
        _ => {}
    }
    // Control characters in a field, or a head near its limits: hyper may refuse it itself.
    let invalid = |v: &[u8]| v.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f);
    let head_len: usize = req.target.len() + req.headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum::<usize>();
    req.broken_head |= req.headers.iter().any(|(_, v)| invalid(v)) || head_len > 30 * 1024 || req.headers.len() > 95;
}

/// An `Authorization` value: correct Basic credentials, or broken ones, or another scheme.
pub fn authorization(rng: &mut Rng, id: &str, secret: &str) -> Option<Vec<u8>> {
    use base64::{engine::general_purpose::STANDARD, Engine as _};
    let b64 = |raw: &[u8]| STANDARD.encode(raw).into_bytes();
    let good = [percent(id.as_bytes()), b":".to_vec(), percent(secret.as_bytes())].concat();
    let v: Vec<u8> = match rng.below(14) {
        0..=2 => return None,
        3 | 4 => [&b"Basic "[..], &b64(&good)].concat(),
        5 => [&b"Basic "[..], &b64(&mutate(rng, good))].concat(),
        6 => [&b"Basic "[..], &b64(id.as_bytes())].concat(),
        7 => [&b"Basic "[..], &rng.printable(24)].concat(),
        8 => [&b"Basic "[..], &b64(&rng.bytes(24))].concat(),
        9 => b"Basic".to_vec(),
        10 => [&b"bAsIc    "[..], &b64(b"%zz:%")].concat(),
        11 => [&b"Bearer "[..], &rng.printable(30)].concat(),
        12 => [&b"Basic "[..], &vec![b'A'; 20_000]].concat(),
        _ => {
            let n = 1 + rng.below(40);
            rng.printable(n)
        }
    };
    Some(v)
}

/// A `DPoP` header value (RFC 9449 §4.2): mostly three base64url parts whose header is (or is
/// nearly) a proof's, with keys, algorithms and claims of every wrong kind; else noise.
pub fn dpop_proof(rng: &mut Rng) -> Vec<u8> {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let b64 = |raw: &[u8]| URL_SAFE_NO_PAD.encode(raw);
    let jwk = *rng.pick(&[
        r#"{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}"#,
        r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#,
        r#"{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","d":"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE"}"#,
        r#"{"kty":"oct","k":"c2VjcmV0"}"#,
        "null",
        "[]",
    ]);
    let alg = *rng.pick(&["ES256", "RS256", "none", "HS256", "EdDSA", ""]);
    let typ = *rng.pick(&["dpop+jwt", "JWT", "DPOP+JWT"]);
    let header = format!(r#"{{"typ":"{typ}","alg":"{alg}","jwk":{jwk}}}"#);
    let claims = *rng.pick(&[
        r#"{"jti":"j","htm":"POST","htu":"http://127.0.0.1/o/token/","iat":1700000000}"#,
        r#"{"jti":"","htm":1,"htu":[],"iat":"now"}"#,
        r#"{"nonce":{},"ath":7}"#,
        "[]",
    ]);
    match rng.below(6) {
        0 => {
            let n = 1 + rng.below(60);
            rng.printable(n)
        }
        1 => format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes())).into_bytes(),
        2 => format!("{}.{}.{}", b64(&mutate(rng, header.into_bytes())), b64(claims.as_bytes()), b64(b"sig"))
            .into_bytes(),
        _ => {
            let n = rng.below(80);
            let sig = rng.bytes(n);
            format!("{}.{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()), b64(&sig)).into_bytes()
        }
    }
}

/// A `Content-Type` for a form: mostly the right one, else another or none.
pub fn content_type(rng: &mut Rng) -> Option<&'static str> {
    let odd = [
        "application/json",
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/x-www-form-urlencoded; charset=utf-7",
        "APPLICATION/X-WWW-FORM-URLENCODED",
        "application/x-www-form-urlencodedx",
        ";;;",
        "",
    ];
    match rng.below(10) {
        0 => None,
        1 | 2 => Some(*rng.pick(&odd)),
        _ => Some("application/x-www-form-urlencoded"),
    }
}

/// A `Cookie` header: the real session and CSRF cookies, or bogus, doubled, huge ones.
pub fn cookie(rng: &mut Rng, session: Option<&str>, csrf: &str) -> Option<Vec<u8>> {
    let real = |s: Option<&str>| {
        format!("yaoshi_csrf={csrf}{}", s.map(|s| format!("; yaoshi_session={s}")).unwrap_or_default())
    };
    let v = match rng.below(20) {
        0 => return None,
        1 => format!("yaoshi_session={}", String::from_utf8_lossy(&rng.printable(40)).replace(';', "")).into_bytes(),
        2 => format!("yaoshi_csrf={csrf}; yaoshi_csrf={csrf}").into_bytes(),
        3 => [&b"yaoshi_session="[..], &rng.bytes(30)].concat(),
        4 => format!("yaoshi_csrf=short; yaoshi_session=; =; ;;; {}", "c=v; ".repeat(200)).into_bytes(),
        5 => format!("yaoshi_lang={}; {}", String::from_utf8_lossy(&rng.printable(10)).replace(';', ""), real(None))
            .into_bytes(),
        _ => real(session).into_bytes(),
    };
    Some(v)
}
