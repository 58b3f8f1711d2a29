//! A bare HTTP/1.1 client over TCP, for what no ordinary client sends: malformed heads, bytes
//! that are not UTF-8, oversized or partial requests. It writes a request exactly as given and
//! reads one answer (any length framing: `Content-Length`, chunked, or until the close).

use std::{io, net::SocketAddr};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// One answer as read off the wire.
#[derive(Debug)]
pub struct RawReply {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// Whether the server closed the connection after this answer (or said it would).
    pub closed: bool,
}

impl RawReply {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// One connection.
pub struct RawConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawConn {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self { stream, buf: Vec::new() })
    }

    /// Writes `bytes` as they are.
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Sends `request` and reads its answer; `head` says the request was a HEAD (whose answer
    /// has no body). A server that answers before reading the whole request may close the
    /// connection while it is being written: the answer is read anyway.
    pub async fn send(&mut self, request: &[u8], head: bool) -> io::Result<RawReply> {
        let written = self.stream.write_all(request).await;
        match self.read_reply(head).await {
            Ok(reply) => Ok(reply),
            Err(e) => Err(written.err().unwrap_or(e)),
        }
    }

    /// Reads until the server closes the connection; returns what arrived.
    pub async fn read_to_close(&mut self) -> io::Result<Vec<u8>> {
        let mut rest = std::mem::take(&mut self.buf);
        self.stream.read_to_end(&mut rest).await?;
        Ok(rest)
    }

    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    async fn line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[..end].to_vec();
                self.buf.drain(..end + 2);
                return Ok(line);
            }
            if self.fill().await? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed before a full line"));
            }
        }
    }

    async fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill().await? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed inside a body"));
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    async fn read_reply(&mut self, head: bool) -> io::Result<RawReply> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
        loop {
            let status_line = String::from_utf8(self.line().await?).map_err(|_| bad("status line"))?;
            let status: u16 =
                status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad(&status_line))?;
            let mut headers = Vec::new();
            loop {
                let line = self.line().await?;
                if line.is_empty() {
                    break;
                }
                let line = String::from_utf8_lossy(&line).into_owned();
                let (name, value) = line.split_once(':').ok_or_else(|| bad(&line))?;
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
            if (100..200).contains(&status) {
                continue;
            }
            let mut reply = RawReply { status, headers, body: Vec::new(), closed: false };
            reply.closed = reply.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
            if head || status == 204 || status == 304 {
                return Ok(reply);
            }
            if reply.header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
                loop {
                    let size_line = String::from_utf8_lossy(&self.line().await?).into_owned();
                    let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                        .map_err(|_| bad(&size_line))?;
                    if size == 0 {
                        while !self.line().await?.is_empty() {}
                        break;
                    }
                    let chunk = self.take(size).await?;
                    reply.body.extend_from_slice(&chunk);
                    self.take(2).await?;
                }
            } else if let Some(len) = reply.header("content-length") {
                let len = len.parse().map_err(|_| bad("content-length"))?;
                reply.body = self.take(len).await?;
            } else {
                reply.body = self.read_to_close().await?;
                reply.closed = true;
            }
            return Ok(reply);
        }
    }
}
