//! The `yaoshi` binary: parses the command line and runs it (see `cli`).

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    yaoshi::cli::run().await
}

/// Without `ssr` there is no server: the WASM build only needs the library.
#[cfg(not(feature = "ssr"))]
fn main() {}
