//! A minimal HTTP/1.1 client over a tokio TcpStream: one request at a time per
//! keep-alive connection, responses framed by Content-Length or chunked encoding.
//!
//! Written by hand so the load generator costs as little CPU as possible on a machine
//! it shares with the server: requests are pre-built byte strings, the response head is
//! parsed just enough to find its status and where the body ends, and bodies of load
//! requests are never copied.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use tokio::net::TcpStream;

/// Largest response (head and body) accepted; far above any answer of the API.
const MAX_RESPONSE: usize = 16 * 1024 * 1024;
/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug)]
pub enum HttpError {
    Io(io::Error),
    /// The server closed the connection before a complete response.
    Closed,
    /// The bytes received are not an HTTP/1.x response.
    Malformed(String),
    TooLarge,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Io(e) => write!(f, "i/o error: {e}"),
            HttpError::Closed => f.write_str("connection closed before a complete response"),
            HttpError::Malformed(m) => write!(f, "malformed response: {m}"),
            HttpError::TooLarge => write!(f, "response larger than {MAX_RESPONSE} bytes"),
        }
    }
}

impl From<io::Error> for HttpError {
    fn from(e: io::Error) -> Self {
        HttpError::Io(e)
    }
}

/// How the body of a response ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLen {
    Fixed(usize),
    Chunked,
    /// No length given: the body runs until the server closes the connection.
    UntilClose,
}

/// The parts of a response head the client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// Bytes of the status line and headers, the blank line included.
    pub len: usize,
    pub body: BodyLen,
    /// The server will close the connection after this response.
    pub close: bool,
}

/// Parses a response head from the start of `buf`; `Ok(None)` if it is not complete yet.
pub fn parse_head(buf: &[u8]) -> Result<Option<Head>, HttpError> {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        if buf.len() > MAX_HEAD {
            return Err(HttpError::Malformed("response head too long".into()));
        }
        return Ok(None);
    };
    let text = std::str::from_utf8(&buf[..end])
        .map_err(|_| HttpError::Malformed("response head is not UTF-8".into()))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(HttpError::Malformed(format!("status line `{status_line}`"))),
    };
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| HttpError::Malformed(format!("status line `{status_line}`")))?;
    let mut length = None;
    let mut chunked = false;
    // HTTP/1.0 closes unless asked to keep alive; HTTP/1.1 keeps alive unless told.
    let mut close = http10;
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| HttpError::Malformed(format!("header line `{line}`")))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .parse()
                .map_err(|_| HttpError::Malformed(format!("content-length `{value}`")))?;
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    close = true;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    close = false;
                }
            }
        }
    }
    // 1xx, 204 and 304 never have a body, whatever the headers say (RFC 9112 6.3).
    let body = if status < 200 || status == 204 || status == 304 {
        BodyLen::Fixed(0)
    } else if chunked {
        BodyLen::Chunked
    } else if let Some(n) = length {
        BodyLen::Fixed(n)
    } else {
        close = true;
        BodyLen::UntilClose
    };
    Ok(Some(Head {
        status,
        len: end + 4,
        body,
        close,
    }))
}

/// Walks a chunked body at the start of `buf`. Returns the bytes it spans (trailers
/// included) once it is complete, `None` while more is needed. Chunk data is appended to
/// `out` when given.
pub fn chunked_body(buf: &[u8], mut out: Option<&mut Vec<u8>>) -> Result<Option<usize>, HttpError> {
    let mut pos = 0;
    loop {
        let Some(line_end) = find(&buf[pos..], b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[pos..pos + line_end])
            .map_err(|_| HttpError::Malformed("chunk size is not text".into()))?;
        // Chunk extensions (`;name=value`) are allowed and ignored.
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::Malformed(format!("chunk size `{size_text}`")))?;
        pos += line_end + 2;
        if size == 0 {
            // Trailer fields, then an empty line.
            loop {
                let Some(end) = find(&buf[pos..], b"\r\n") else {
                    return Ok(None);
                };
                pos += end + 2;
                if end == 0 {
                    return Ok(Some(pos));
                }
            }
        }
        if size > MAX_RESPONSE {
            return Err(HttpError::TooLarge);
        }
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        if &buf[pos + size..pos + size + 2] != b"\r\n" {
            return Err(HttpError::Malformed("chunk not followed by CRLF".into()));
        }
        if let Some(out) = out.as_deref_mut() {
            out.extend_from_slice(&buf[pos..pos + size]);
        }
        pos += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Builds a request. `body` is sent with its Content-Length; pass its Content-Type in
/// `headers`.
pub fn build_request(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut req = Vec::with_capacity(256 + body.map_or(0, <[u8]>::len));
    req.extend_from_slice(format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n").as_bytes());
    for (name, value) in headers {
        req.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if let Some(body) = body {
        req.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        req.extend_from_slice(body);
    } else {
        req.extend_from_slice(b"\r\n");
    }
    req
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
}

/// What a load request got back (the body is skipped).
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub status: u16,
    /// The connection cannot be used again.
    pub close: bool,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> Result<Conn, HttpError> {
        let stream = TcpStream::connect(addr).await?;
        // Requests are single small writes; Nagle would only add delay.
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: vec![0; 16 * 1024],
            filled: 0,
        })
    }

    /// Sends `req` and reads the whole response, discarding its body.
    pub async fn round_trip(&mut self, req: &[u8]) -> Result<Outcome, HttpError> {
        let (head, _) = self.exchange(req, None).await?;
        Ok(Outcome {
            status: head.status,
            close: head.close,
        })
    }

    /// Sends `req` and returns the status and the body (for set-up requests).
    pub async fn fetch(&mut self, req: &[u8]) -> Result<(Head, Vec<u8>), HttpError> {
        let mut body = Vec::new();
        let (head, _) = self.exchange(req, Some(&mut body)).await?;
        Ok((head, body))
    }

    async fn exchange(
        &mut self,
        req: &[u8],
        mut body_out: Option<&mut Vec<u8>>,
    ) -> Result<(Head, usize), HttpError> {
        self.write_all(req).await?;
        self.filled = 0;
        let head = loop {
            if let Some(head) = parse_head(&self.buf[..self.filled])? {
                break head;
            }
            if !self.read_more().await? {
                return Err(HttpError::Closed);
            }
        };
        let total = loop {
            let body = &self.buf[head.len..self.filled];
            let done = match head.body {
                BodyLen::Fixed(n) if body.len() >= n => Some(head.len + n),
                BodyLen::Fixed(_) | BodyLen::UntilClose => None,
                BodyLen::Chunked => {
                    // Decode into a scratch buffer only once complete, so a body that
                    // arrives in pieces is not appended twice.
                    match chunked_body(body, None)? {
                        Some(n) => {
                            if let Some(out) = body_out.as_deref_mut() {
                                chunked_body(body, Some(out))?;
                            }
                            Some(head.len + n)
                        }
                        None => None,
                    }
                }
            };
            if let Some(total) = done {
                break total;
            }
            if !self.read_more().await? {
                if head.body == BodyLen::UntilClose {
                    break self.filled;
                }
                return Err(HttpError::Closed);
            }
        };
        if let Some(out) = body_out {
            if head.body != BodyLen::Chunked {
                out.extend_from_slice(&self.buf[head.len..total]);
            }
        }
        if self.filled > total {
            // One request at a time: anything after the response is a protocol error.
            return Err(HttpError::Malformed("bytes after the response".into()));
        }
        Ok((head, total))
    }

    async fn write_all(&mut self, mut data: &[u8]) -> Result<(), HttpError> {
        while !data.is_empty() {
            // Try first: the socket is almost always writable, which saves a poll.
            match self.stream.try_write(data) {
                Ok(0) => return Err(HttpError::Closed),
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.stream.writable().await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Reads what is available into the buffer; `false` at end of stream.
    async fn read_more(&mut self) -> Result<bool, HttpError> {
        if self.filled == self.buf.len() {
            if self.buf.len() >= MAX_RESPONSE {
                return Err(HttpError::TooLarge);
            }
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            self.stream.readable().await?;
            match self.stream.try_read(&mut self.buf[self.filled..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.filled += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_with_content_length() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\ncontent-type: application/json\r\n\r\n{\"status\":\"ok\"}";
        let head = parse_head(raw).unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.body, BodyLen::Fixed(15));
        assert!(!head.close);
        assert_eq!(&raw[head.len..], b"{\"status\":\"ok\"}");
    }

    #[test]
    fn incomplete_head_waits_for_more() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-len").unwrap(), None);
        assert_eq!(parse_head(b"").unwrap(), None);
    }

    #[test]
    fn status_close_and_framing() {
        let h = parse_head(
            b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!((h.status, h.close, h.body), (503, true, BodyLen::Fixed(0)));
        let h = parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.body, BodyLen::Chunked);
        // No length: read to the end of the connection, which then cannot be reused.
        let h = parse_head(b"HTTP/1.1 200 OK\r\n\r\n").unwrap().unwrap();
        assert_eq!((h.body, h.close), (BodyLen::UntilClose, true));
        // 204 has no body even with a length header.
        let h = parse_head(b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.body, BodyLen::Fixed(0));
        let h = parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.close);
        let h =
            parse_head(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n")
                .unwrap()
                .unwrap();
        assert!(!h.close);
    }

    #[test]
    fn malformed_heads_are_errors() {
        for raw in [
            &b"SPDY/3 200 OK\r\n\r\n"[..],
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 999 What\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        ] {
            assert!(
                matches!(parse_head(raw), Err(HttpError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
        let huge = vec![b'a'; MAX_HEAD + 1];
        assert!(parse_head(&huge).is_err());
    }

    #[test]
    fn chunked_bodies() {
        let raw = b"4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n";
        let mut out = Vec::new();
        assert_eq!(chunked_body(raw, Some(&mut out)).unwrap(), Some(raw.len()));
        assert_eq!(out, b"Wikipedia in \r\n\r\nchunks.");
        // Trailers are skipped.
        let raw = b"1\r\na\r\n0\r\nx-trailer: 1\r\n\r\n";
        assert_eq!(chunked_body(raw, None).unwrap(), Some(raw.len()));
        // Every prefix is incomplete, never an error.
        let raw = b"4\r\nWiki\r\n0\r\n\r\n";
        for i in 0..raw.len() {
            assert_eq!(chunked_body(&raw[..i], None).unwrap(), None, "prefix {i}");
        }
        assert!(chunked_body(b"zz\r\n", None).is_err());
        assert!(chunked_body(b"2\r\nabcd\r\n", None).is_err());
    }

    #[test]
    fn requests_are_framed() {
        let r = build_request("GET", "/health", "127.0.0.1:8080", &[], None);
        assert_eq!(r, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
        let r = build_request(
            "POST",
            "/x",
            "h",
            &[("Content-Type", "application/json")],
            Some(b"{}"),
        );
        assert_eq!(
            r,
            b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
    }

    /// A real socket: a response split across writes, then a chunked one, on one
    /// keep-alive connection.
    #[test]
    fn round_trips_over_a_socket() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap();
            assert!(buf[..n].starts_with(b"GET /a HTTP/1.1\r\n"));
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            s.write_all(b"ngth: 5\r\n\r\nhel").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            s.write_all(b"lo").unwrap();
            let n = s.read(&mut buf).unwrap();
            assert!(buf[..n].starts_with(b"GET /b HTTP/1.1\r\n"));
            s.write_all(
                b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
            )
            .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            s.write_all(b"0\r\n\r\n").unwrap();
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut c = Conn::connect(addr).await.unwrap();
            let (head, body) = c
                .fetch(&build_request("GET", "/a", "h", &[], None))
                .await
                .unwrap();
            assert_eq!((head.status, body.as_slice()), (200, &b"hello"[..]));
            let out = c
                .round_trip(&build_request("GET", "/b", "h", &[], None))
                .await
                .unwrap();
            assert_eq!((out.status, out.close), (404, false));
            // The server has gone: the next request fails instead of hanging.
            server.join().unwrap();
            assert!(c
                .round_trip(&build_request("GET", "/c", "h", &[], None))
                .await
                .is_err());
        });
    }
}
