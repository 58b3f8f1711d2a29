//! The site the pages load: the hydration bundle (`pkg/yaoshi.js`, `pkg/yaoshi.wasm`), the
//! stylesheet (`pkg/yaoshi.css`) and the files of `public/`.
//!
//! The release binary carries them (embedded by `build.rs` from what `.ci/site.sh` built), so
//! the binary alone can be copied to a server. `LEPTOS_SITE_ROOT` (cargo-leptos sets it) makes
//! the server read them from that directory instead, as does a binary built without a site,
//! which looks for `site/` beside itself and then `target/site`.
//!
//! Pages link the assets with a content version (`/pkg/yaoshi.wasm?v=…`): such a URL never
//! changes meaning, so it is cached for a year; every other request for a file revalidates
//! with its `ETag`.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::OnceLock,
};

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};

/// One file compiled into the binary.
struct EmbeddedFile {
    /// Path under the site root, without a leading slash.
    path: &'static str,
    body: &'static [u8],
    /// The same file gzip-compressed, when the site build made one.
    gzip: Option<&'static [u8]>,
    /// Content hash in hex: the version in asset URLs and the `ETag`.
    hash: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/site_files.rs"));

/// The assets the page shell links, by path under the site root.
pub const JS: &str = "pkg/yaoshi.js";
/// The hydration bundle's WebAssembly.
pub const WASM: &str = "pkg/yaoshi.wasm";
/// The stylesheet.
pub const CSS: &str = "pkg/yaoshi.css";
/// The script that shows times in the reader's time zone (`public/local-time.js`).
pub const LOCAL_TIME: &str = "local-time.js";
/// The script that solves the CAPTCHA's proof of work (`public/captcha.js`).
pub const CAPTCHA: &str = "captcha.js";
/// The script that runs the passkey ceremonies (`public/passkey.js`).
pub const PASSKEY: &str = "passkey.js";

/// Where the site's files come from.
#[derive(Debug)]
pub enum Site {
    /// Compiled into the binary.
    Embedded,
    /// A directory on disk, with the content versions of the linked assets read at start.
    Dir {
        /// The site root.
        root: PathBuf,
        /// Content hash of each linked asset that exists there.
        versions: HashMap<&'static str, String>,
    },
}

impl Site {
    /// The process's site, chosen once from the environment and what the build embedded.
    pub fn current() -> &'static Site {
        static SITE: OnceLock<Site> = OnceLock::new();
        SITE.get_or_init(|| {
            if let Some(root) = std::env::var_os("LEPTOS_SITE_ROOT") {
                return Site::dir(PathBuf::from(root));
            }
            if SITE_FILES.iter().any(|f| f.path == WASM) {
                return Site::Embedded;
            }
            let beside_binary = std::env::current_exe().ok().and_then(|exe| {
                let dir = exe.parent()?.to_path_buf();
                [dir.join("site"), dir.parent()?.join("site")].into_iter().find(|d| d.join("pkg").is_dir())
            });
            Site::dir(beside_binary.unwrap_or_else(|| PathBuf::from("target/site")))
        })
    }

    fn dir(root: PathBuf) -> Site {
        let versions = [JS, WASM, CSS, LOCAL_TIME, CAPTCHA, PASSKEY]
            .into_iter()
            .filter_map(|asset| Some((asset, format!("{:016x}", fnv1a(&std::fs::read(root.join(asset)).ok()?)))))
            .collect();
        Site::Dir { root, versions }
    }

    /// The directory Leptos is told to serve from; for an embedded site, one that need not exist.
    pub fn root(&self) -> &Path {
        match self {
            Site::Embedded => Path::new("site"),
            Site::Dir { root, .. } => root,
        }
    }

    /// Says where the files come from, for the start-up log.
    pub fn describe(&self) -> String {
        match self {
            Site::Embedded => format!("embedded ({} files)", SITE_FILES.len()),
            Site::Dir { root, .. } => root.display().to_string(),
        }
    }

    /// The URL a page links `asset` (one of [`JS`], [`WASM`], [`CSS`], [`LOCAL_TIME`], [`CAPTCHA`], [`PASSKEY`]) by, with its content
    /// version when known.
    pub fn url(&self, asset: &'static str) -> String {
        let version = match self {
            Site::Embedded => SITE_FILES.iter().find(|f| f.path == asset).map(|f| f.hash),
            Site::Dir { versions, .. } => versions.get(asset).map(String::as_str),
        };
        match version {
            Some(v) => format!("/{asset}?v={v}"),
            None => format!("/{asset}"),
        }
    }

    /// Answers a GET or HEAD for an embedded file; `None` when this is not one (the caller
    /// then serves the directory or renders the not-found page).
    pub fn embedded_response(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
        if !matches!(self, Site::Embedded) || !(method == Method::GET || method == Method::HEAD) {
            return None;
        }
        let path = uri.path().trim_start_matches('/');
        let file = SITE_FILES.iter().find(|f| f.path == path)?;
        Some(respond(file, method == Method::HEAD, uri.query(), headers))
    }
}

fn respond(file: &EmbeddedFile, head: bool, query: Option<&str>, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", file.hash);
    let versioned = query.is_some_and(|q| q.split('&').any(|p| p.strip_prefix("v=") == Some(file.hash)));
    let cache = if versioned { "public, max-age=31536000, immutable" } else { "public, no-cache" };
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let accepts_gzip = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.split(';').next().is_some_and(|e| e.trim() == "gzip")));
        let (body, gzip) = match file.gzip {
            Some(gz) if accepts_gzip => (gz, true),
            _ => (file.body, false),
        };
        let mut resp = if head { Response::new(Body::empty()) } else { Response::new(Body::from(body)) };
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(file.path)));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        if gzip {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        resp
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if file.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    resp
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        Some("json") => "application/json",
        Some("html") => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The hash `build.rs` computes, so a site on disk gets the same versions as an embedded one.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    static FILE: EmbeddedFile =
        EmbeddedFile { path: "pkg/yaoshi.css", body: b"body{}", gzip: Some(b"gz"), hash: "00000000000000ab" };

    fn get(query: Option<&str>, headers: &[(header::HeaderName, &str)]) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        respond(&FILE, false, query, &map)
    }

    #[test]
    fn a_versioned_url_is_cached_for_a_year_and_a_plain_one_revalidates() {
        let versioned = get(Some("v=00000000000000ab"), &[]);
        assert_eq!(versioned.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert_eq!(versioned.headers()[header::ETAG], "\"00000000000000ab\"");
        assert_eq!(get(None, &[]).headers()[header::CACHE_CONTROL], "public, no-cache");
        // An old version's URL must not pin today's content for a year.
        assert_eq!(get(Some("v=1111"), &[]).headers()[header::CACHE_CONTROL], "public, no-cache");
    }

    #[test]
    fn a_matching_etag_gets_304_and_gzip_only_when_accepted() {
        assert_eq!(get(None, &[(header::IF_NONE_MATCH, "\"x\", \"00000000000000ab\"")]).status(), 304);
        assert_eq!(get(None, &[(header::IF_NONE_MATCH, "\"other\"")]).status(), 200);
        let gz = get(None, &[(header::ACCEPT_ENCODING, "br, gzip;q=0.8")]);
        assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(gz.headers()[header::CONTENT_LENGTH], "2");
        let plain = get(None, &[(header::ACCEPT_ENCODING, "br")]);
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(plain.headers()[header::CONTENT_TYPE], "text/css; charset=utf-8");
    }
}
