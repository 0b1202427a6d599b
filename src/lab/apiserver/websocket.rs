//! A small RFC 6455 WebSocket server side, enough for kubectl's streaming subresources: the
//! handshake (`Sec-WebSocket-Accept`, subprotocol choice), reading client frames (masked,
//! possibly fragmented; pings answered, close honoured) and writing binary messages and a
//! close frame. No extensions, no compression.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Largest client message accepted (stdin chunks, resize events).
const MAX_MESSAGE: usize = 1 << 20;

/// Is this request a WebSocket upgrade?
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    let has = |name: header::HeaderName, want: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(want))
    };
    has(header::UPGRADE, "websocket") && has(header::CONNECTION, "upgrade")
}

/// The subprotocols the client offers, in its order of preference.
pub fn offered_protocols(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// `Sec-WebSocket-Accept` for a client key.
pub fn accept_key(key: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{key}{GUID}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

/// The 101 response switching to `protocol`, or `None` without a client key.
pub fn switching(headers: &HeaderMap, protocol: &str) -> Option<Response> {
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?.to_str().ok()?;
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(
        header::SEC_WEBSOCKET_ACCEPT,
        HeaderValue::from_str(&accept_key(key)).ok()?,
    );
    h.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_str(protocol).ok()?,
    );
    Some(resp)
}

/// One message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Binary(Vec<u8>),
    Text(String),
    Close,
}

/// One frame as read, payload unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// Write one unmasked (server) frame.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    io: &mut W,
    opcode: u8,
    payload: &[u8],
) -> std::io::Result<()> {
    let mut head = vec![0x80 | opcode];
    match payload.len() {
        n @ 0..=125 => head.push(u8::try_from(n).unwrap_or(125)),
        n @ 126..=0xffff => {
            head.push(126);
            head.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes());
        }
        n => {
            head.push(127);
            head.extend_from_slice(&u64::try_from(n).unwrap_or(u64::MAX).to_be_bytes());
        }
    }
    io.write_all(&head).await?;
    io.write_all(payload).await?;
    io.flush().await
}

/// Read one client frame of at most `max` payload bytes; `None` when the peer has gone.
pub async fn read_frame<R: AsyncRead + Unpin>(
    io: &mut R,
    max: usize,
) -> std::io::Result<Option<Frame>> {
    let mut head = [0u8; 2];
    if io.read_exact(&mut head).await.is_err() {
        return Ok(None);
    }
    let fin = head[0] & 0x80 != 0;
    let opcode = head[0] & 0x0f;
    let masked = head[1] & 0x80 != 0;
    let len = match head[1] & 0x7f {
        126 => u64::from(io.read_u16().await?),
        127 => io.read_u64().await?,
        n => u64::from(n),
    };
    let len = usize::try_from(len)
        .ok()
        .filter(|l| *l <= max)
        .ok_or_else(|| std::io::Error::other("websocket message too large"))?;
    let mut mask = [0u8; 4];
    if masked {
        io.read_exact(&mut mask).await?;
    }
    let mut payload = vec![0u8; len];
    io.read_exact(&mut payload).await?;
    if masked {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
    }
    Ok(Some(Frame {
        fin,
        opcode,
        payload,
    }))
}

/// A server-side WebSocket over an upgraded connection.
pub struct WebSocket<S> {
    io: S,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    pub fn new(io: S) -> Self {
        WebSocket { io }
    }

    async fn frame(&mut self, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
        write_frame(&mut self.io, opcode, payload).await
    }

    /// Send one binary message.
    pub async fn send_binary(&mut self, payload: &[u8]) -> std::io::Result<()> {
        self.frame(0x2, payload).await
    }

    /// Send a close frame with a normal closure code.
    pub async fn close(&mut self) -> std::io::Result<()> {
        self.frame(0x8, &1000u16.to_be_bytes()).await
    }

    /// The next data message (pings are answered on the way), `Close` at the end.
    pub async fn recv(&mut self) -> std::io::Result<Message> {
        let mut message = Vec::new();
        let mut text = false;
        loop {
            let Some(Frame {
                fin,
                opcode,
                payload,
            }) = read_frame(&mut self.io, MAX_MESSAGE.saturating_sub(message.len())).await?
            else {
                return Ok(Message::Close);
            };
            match opcode {
                0x8 => {
                    let _ = self.frame(0x8, payload.get(..2).unwrap_or_default()).await;
                    return Ok(Message::Close);
                }
                0x9 => self.frame(0xA, &payload).await?,
                0xA => {}
                0x0..=0x2 => {
                    if opcode != 0 {
                        text = opcode == 0x1;
                    }
                    message.extend_from_slice(&payload);
                    if fin {
                        return Ok(if text {
                            Message::Text(String::from_utf8_lossy(&message).into_owned())
                        } else {
                            Message::Binary(message)
                        });
                    }
                }
                _ => return Err(std::io::Error::other("unknown websocket opcode")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_is_the_rfc_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[tokio::test]
    async fn reads_masked_fragmented_messages_and_answers_pings() {
        let (client, server) = tokio::io::duplex(4096);
        let mut ws = WebSocket::new(server);
        let (mut cr, mut cw) = tokio::io::split(client);
        let mask = [1u8, 2, 3, 4];
        let masked =
            |p: &[u8]| -> Vec<u8> { p.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]).collect() };
        let mut bytes = vec![0x02, 0x80 | 3];
        bytes.extend_from_slice(&mask);
        bytes.extend(masked(b"\x00ab"));
        bytes.extend_from_slice(&[0x89, 0x80 | 1]);
        bytes.extend_from_slice(&mask);
        bytes.extend(masked(b"p"));
        bytes.extend_from_slice(&[0x80, 0x80 | 1]);
        bytes.extend_from_slice(&mask);
        bytes.extend(masked(b"c"));
        cw.write_all(&bytes).await.expect("write");
        assert_eq!(
            ws.recv().await.expect("message"),
            Message::Binary(b"\x00abc".to_vec())
        );
        let mut pong = [0u8; 3];
        cr.read_exact(&mut pong).await.expect("pong");
        assert_eq!(pong, [0x8A, 1, b'p']);
        drop((cr, cw));
        assert_eq!(ws.recv().await.expect("end"), Message::Close);
    }
}
