//! Build script: rebuilds when the migrations change (`sqlx::migrate!` embeds them), and for
//! the server build embeds the site (`.ci/site.sh` writes it) so that the binary alone serves
//! its pages, WASM and CSS.
use std::{
    fs,
    path::{Path, PathBuf},
};

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=YAOSHI_SITE_DIR");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut files = Vec::new();
    if std::env::var_os("CARGO_FEATURE_SSR").is_some() {
        let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
        let site = std::env::var_os("YAOSHI_SITE_DIR").map_or_else(|| manifest.join("target/site"), PathBuf::from);
        // Watching a missing path would rerun this script on every build; an empty directory
        // is watched instead, and a site written into it later is noticed.
        let _ = fs::create_dir_all(&site);
        println!("cargo:rerun-if-changed={}", site.display());
        collect(&site, &site, &mut files);
        files.sort();
    }
    fs::write(out.join("site_files.rs"), generate(&files)).expect("write site_files.rs");
}

/// Every file under `dir` but the `.gz` twins, as (path relative to `site`, absolute path).
fn collect(site: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(site, &path, files);
        } else if path.extension().is_none_or(|e| e != "gz" && e != "tmp") {
            let rel = path.strip_prefix(site).expect("under the site").to_string_lossy().replace('\\', "/");
            files.push((rel, path));
        }
    }
}

/// `static SITE_FILES: &[EmbeddedFile]`, with each file's bytes, its gzip twin when there is
/// one, and a content hash (FNV-1a, 64 bits: a version stamp for caches, not a security
/// property) computed here so that start-up does no hashing.
fn generate(files: &[(String, PathBuf)]) -> String {
    let mut code = String::from("static SITE_FILES: &[EmbeddedFile] = &[\n");
    for (rel, path) in files {
        let bytes = fs::read(path).expect("read a site file");
        let gz = path.with_file_name(format!("{}.gz", path.file_name().expect("a file name").to_string_lossy()));
        let gzip =
            if gz.is_file() { format!("Some(include_bytes!({:?}))", gz.display().to_string()) } else { "None".into() };
        code.push_str(&format!(
            "    EmbeddedFile {{ path: {rel:?}, body: include_bytes!({:?}), gzip: {gzip}, hash: \"{:016x}\" }},\n",
            path.display().to_string(),
            fnv1a(&bytes)
        ));
    }
    code.push_str("];\n");
    code
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}
