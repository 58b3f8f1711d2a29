//! A real reverse proxy for the tests: Debian's nginx, started on a loopback port with a config
//! written to a temp dir, forwarding `X-Forwarded-For` as deployments do. With several
//! upstreams it balances them round robin (one worker, so requests alternate strictly), and
//! every answer says which upstream gave it in `X-Upstream` (nginx's `$upstream_addr`).

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
};

/// An nginx process on `127.0.0.1:port`; killed on drop.
pub struct Nginx {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    _dir: tempfile::TempDir,
}

fn nginx_binary() -> PathBuf {
    let found = ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().map(PathBuf::from).find(|p| p.exists());
    found.expect("nginx is not installed: `.ci/tools.sh system` installs Debian's nginx")
}

/// A loopback port free at the time of asking, for a proxy whose address the servers behind
/// it must know before it starts (their issuer).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port()
}

impl Nginx {
    /// Proxies a free loopback port to `upstreams` (`http://host:port` each).
    pub async fn start(upstreams: &[&str]) -> Self {
        Self::start_on(free_port(), upstreams).await
    }

    /// Proxies `127.0.0.1:port` to `upstreams` (`http://host:port` each), round robin.
    pub async fn start_on(port: u16, upstreams: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").expect("/proc")) == 0;
        let d = dir.path().display();
        let servers: String = upstreams
            .iter()
            .map(|u| format!("    server {};\n", u.strip_prefix("http://").expect("an http:// upstream")))
            .collect();
        // `Host` keeps the port (`$http_host`, not `$host`): the browser forms' same-origin
        // check compares `Origin` with it.
        let conf = format!(
            "{user}worker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
               upstream yaoshi {{\n{servers}  }}\n\
               server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
                 proxy_pass http://yaoshi;\n      proxy_set_header Host $http_host;\n\
                 proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                 proxy_set_header X-Forwarded-Proto $scheme;\n\
                 add_header X-Upstream $upstream_addr always;\n    }}\n  }}\n}}\n",
            user = if root { "user root;\n" } else { "" },
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).expect("write nginx.conf");
        let child = Command::new(nginx_binary())
            .args(["-p", &d.to_string(), "-c", &path.display().to_string(), "-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut nginx = Self { child, port, _dir: dir };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return nginx;
            }
            if let Ok(Some(status)) = nginx.child.try_wait() {
                let log = std::fs::read_to_string(nginx._dir.path().join("error.log")).unwrap_or_default();
                panic!("nginx exited with {status}: {log}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("nginx did not listen on 127.0.0.1:{}", nginx.port);
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }
}

impl Drop for Nginx {
    /// SIGTERM, so the master stops its worker with it: a `kill -9` of the master would leave
    /// the worker behind, still listening on the port. SIGKILL only if it is not gone in 5 s.
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
