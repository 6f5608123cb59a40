//! Native-messaging framing as Chrome and Firefox speak it: a 4-byte length in native byte order, then
//! that many bytes of UTF-8 JSON. stdout carries frames and nothing else.

use std::io::{self, Read, Write};

/// Largest request the host accepts. Browsers send at most 64 MiB; posts with downscaled images are far
/// smaller, and a cap keeps a broken sender from making the host allocate gigabytes.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;
/// Chrome refuses host→browser messages over 1 MB.
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// The host's stdout, which carries frames and nothing else: the only place the host opens it (the
/// workspace's `clippy.toml` refuses `std::io::stdout` elsewhere).
#[allow(clippy::disallowed_methods)]
pub fn protocol_stdout() -> io::Stdout {
    io::stdout()
}

/// One read attempt.
#[derive(Debug)]
pub enum Frame {
    /// A complete message body.
    Message(Vec<u8>),
    /// A frame larger than the limit; its bytes were read and thrown away so the stream stays in step.
    TooLarge { declared: usize },
    /// The browser closed the pipe (between frames).
    Closed,
}

/// Read one frame. A pipe closed in the middle of a frame is an `UnexpectedEof` error.
pub fn read_frame(r: &mut impl Read, max: usize) -> io::Result<Frame> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len[got..])? {
            0 if got == 0 => return Ok(Frame::Closed),
            0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "pipe closed inside a frame header")),
            n => got += n,
        }
    }
    let declared = u32::from_ne_bytes(len) as usize;
    if declared > max {
        let skipped = io::copy(&mut r.by_ref().take(declared as u64), &mut io::sink())?;
        if skipped < declared as u64 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "pipe closed inside an oversize frame"));
        }
        return Ok(Frame::TooLarge { declared });
    }
    let mut body = vec![0u8; declared];
    r.read_exact(&mut body)?;
    Ok(Frame::Message(body))
}

/// Write one frame and flush it.
pub fn write_frame(w: &mut impl Write, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
    w.write_all(&len.to_ne_bytes())?;
    w.write_all(body)?;
    w.flush()
}

/// Every whole frame in `bytes`, read as [`read_frame`] reads them from a pipe, and the bytes after the last
/// one (an incomplete frame, or nothing): what the host makes of an input stream, for tests and fuzzers.
pub fn split_frames(bytes: &[u8], max: usize) -> (Vec<Frame>, &[u8]) {
    let mut rest = bytes;
    let mut frames = Vec::new();
    loop {
        let mut r = rest;
        match read_frame(&mut r, max) {
            Ok(Frame::Closed) | Err(_) => return (frames, rest),
            Ok(frame) => {
                frames.push(frame);
                rest = r;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"{\"a\":1}").unwrap();
        write_frame(&mut buf, &[b'x'; 100]).unwrap();
        write_frame(&mut buf, b"{}").unwrap();
        let mut r = &buf[..];
        assert!(matches!(read_frame(&mut r, 50).unwrap(), Frame::Message(b) if b == b"{\"a\":1}"));
        assert!(matches!(read_frame(&mut r, 50).unwrap(), Frame::TooLarge { declared: 100 }));
        assert!(matches!(read_frame(&mut r, 50).unwrap(), Frame::Message(b) if b == b"{}"));
        assert!(matches!(read_frame(&mut r, 50).unwrap(), Frame::Closed));
        let (frames, rest) = split_frames(&buf[..buf.len() - 1], 50);
        assert_eq!((frames.len(), rest.len()), (2, 5));
    }

    #[test]
    fn truncated_frames_are_errors() {
        let mut r: &[u8] = &[5, 0];
        assert_eq!(read_frame(&mut r, 50).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        let mut buf = Vec::new();
        write_frame(&mut buf, b"hello").unwrap();
        buf.truncate(7);
        assert_eq!(read_frame(&mut &buf[..], 50).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }
}
