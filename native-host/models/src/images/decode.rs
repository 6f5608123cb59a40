//! Safe image decoding: JPEG, PNG, WebP and GIF (first frame), EXIF orientation applied, with hard limits on
//! bytes, dimensions, pixels and allocation, so a decompression bomb, a corrupt or a truncated file is an
//! error with a wire code and a reason — never a crash, a hang or memory exhaustion.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbImage};

/// Limits checked before and while decoding. The defaults fit anything a feed shows (the extension
/// downscales to 512 px) with a wide margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Encoded size at most.
    pub max_bytes: usize,
    /// Width and height at most.
    pub max_dimension: u32,
    /// Width × height at most (checked from the header, before any pixel is decoded).
    pub max_pixels: u64,
    /// Bytes the decoder may allocate at most.
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits { max_bytes: 8 << 20, max_dimension: 8192, max_pixels: 24_000_000, max_alloc: 256 << 20 }
    }
}

/// Why an image could not be decoded; each has a wire code (`code`) and says what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("the image is empty")]
    Empty,
    #[error("the image is {bytes} bytes; the limit is {limit}")]
    TooManyBytes { bytes: usize, limit: usize },
    #[error("not an image in a known format (JPEG, PNG, WebP or GIF)")]
    UnknownFormat,
    #[error("{0} images are not accepted; send JPEG, PNG, WebP or GIF")]
    UnsupportedFormat(String),
    #[error("the image is {width}×{height} pixels, over the limit ({limit})")]
    TooLarge { width: u32, height: u32, limit: String },
    #[error("the image is over the limit ({limit})")]
    TooLargeUnknownSize { limit: String },
    #[error("the image is corrupt or truncated: {0}")]
    Corrupt(String),
}

impl DecodeError {
    /// Stable wire code (logs and the extension key on it).
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Empty => "image-empty",
            DecodeError::TooManyBytes { .. } => "image-too-many-bytes",
            DecodeError::UnknownFormat => "image-unknown-format",
            DecodeError::UnsupportedFormat(_) => "image-unsupported-format",
            DecodeError::TooLarge { .. } | DecodeError::TooLargeUnknownSize { .. } => "image-too-large",
            DecodeError::Corrupt(_) => "image-corrupt",
        }
    }
}

impl DecodeLimits {
    /// The limits in words, for error messages.
    fn describe(&self) -> String {
        format!(
            "{} px a side, {} pixels and {} MiB to decode",
            self.max_dimension,
            self.max_pixels,
            self.max_alloc >> 20
        )
    }
}

/// A codec's error as a [`DecodeError`]. A limit hit is `image-too-large` with the image's real size: the
/// size the header declares when the codec stopped before saying it (`header_size`).
fn from_image_error(
    e: ImageError,
    size: Option<(u32, u32)>,
    header_size: impl FnOnce() -> Option<(u32, u32)>,
    limits: &DecodeLimits,
) -> DecodeError {
    match e {
        ImageError::Limits(_) => match size.or_else(header_size) {
            Some((width, height)) => DecodeError::TooLarge { width, height, limit: limits.describe() },
            None => DecodeError::TooLargeUnknownSize { limit: limits.describe() },
        },
        other => DecodeError::Corrupt(other.to_string()),
    }
}

/// The size the header declares, read without any limit (headers only: no pixel is decoded).
fn declared_size(bytes: &[u8], format: ImageFormat) -> Option<(u32, u32)> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.no_limits();
    reader.into_dimensions().ok()
}

/// Decode `bytes` into 8-bit RGB, upright. Transparent pixels are composited over white (text drawn on a
/// transparent background stays readable).
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooManyBytes { bytes: bytes.len(), limit: limits.max_bytes });
    }
    let format = image::guess_format(bytes).map_err(|_| DecodeError::UnknownFormat)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif) {
        return Err(DecodeError::UnsupportedFormat(format!("{format:?}")));
    }
    if let Some(why) = truncated(format, bytes) {
        return Err(DecodeError::Corrupt(why.into()));
    }
    if let Some((width, height)) = webp_size(bytes).filter(|_| format == ImageFormat::WebP) {
        check_dimensions(width, height, limits)?;
    }
    // Defence in depth: the codecs are pure Rust and return errors, but a panic in one must not take the
    // host down with it.
    std::panic::catch_unwind(|| decode_checked(bytes, format, limits))
        .unwrap_or_else(|_| Err(DecodeError::Corrupt("the decoder failed on this file".into())))
}

fn decode_checked(bytes: &[u8], format: ImageFormat, limits: &DecodeLimits) -> Result<RgbImage, DecodeError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut l = Limits::default();
    l.max_image_width = Some(limits.max_dimension);
    l.max_image_height = Some(limits.max_dimension);
    l.max_alloc = Some(limits.max_alloc);
    reader.limits(l);
    let mut decoder =
        reader.into_decoder().map_err(|e| from_image_error(e, None, || declared_size(bytes, format), limits))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(DecodeError::Corrupt(format!("the header says {width}×{height} pixels")));
    }
    check_dimensions(width, height, limits)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    // `ImageReader::into_decoder` hands the limits to the codec, but only `ImageReader::decode` checks the
    // output buffer against `max_alloc`: check it here — the decoded pixels, the RGB copy when the image is
    // not already 8-bit RGB, and the rotated copy when EXIF asks for one.
    let rgb_bytes = u64::from(width) * u64::from(height) * 3;
    let needed = decoder.total_bytes()
        + if decoder.color_type() == image::ColorType::Rgb8 { 0 } else { rgb_bytes }
        + if orientation == image::metadata::Orientation::NoTransforms { 0 } else { decoder.total_bytes() };
    if needed > limits.max_alloc {
        return Err(DecodeError::TooLarge {
            width,
            height,
            limit: format!("{needed} bytes to decode, over {} allowed", limits.max_alloc),
        });
    }
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| from_image_error(e, Some((width, height)), || None, limits))?;
    img.apply_orientation(orientation);
    Ok(flatten(img))
}

fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), DecodeError> {
    if width > limits.max_dimension || height > limits.max_dimension {
        return Err(DecodeError::TooLarge { width, height, limit: format!("{} px a side", limits.max_dimension) });
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(DecodeError::TooLarge { width, height, limit: format!("{} pixels", limits.max_pixels) });
    }
    Ok(())
}

/// The size a WebP's first chunk declares: the canvas of an extended WebP (`VP8X`, 24 bits a side), or the
/// frame of a simple lossless (`VP8L`, 14 bits) or lossy (`VP8 `, 14 bits) one. The WebP codec refuses
/// the biggest ones itself, as a generic decoding error (a 16384×16384 lossless one among them); reading the
/// size here gives them the too-large code and their real size.
fn webp_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let chunk = bytes.get(12..16)?;
    let data = bytes.get(20..)?;
    match chunk {
        b"VP8X" => {
            let b = data.get(4..10)?;
            let u24 = |x: &[u8]| u32::from_le_bytes([x[0], x[1], x[2], 0]) + 1;
            Some((u24(&b[..3]), u24(&b[3..])))
        }
        b"VP8L" if data.first() == Some(&0x2f) => {
            let bits = u32::from_le_bytes(data.get(1..5)?.try_into().ok()?);
            Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
        }
        // A key frame: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height (2 scale bits).
        b"VP8 " if data.get(3..6) == Some(&[0x9d, 0x01, 0x2a]) => {
            let u14 = |x: &[u8]| u32::from(u16::from_le_bytes([x[0], x[1]]) & 0x3fff);
            let b = data.get(6..10)?;
            Some((u14(&b[..2]), u14(&b[2..])))
        }
        _ => None,
    }
}

/// The codecs decode what arrived of a cut-off PNG or JPEG (missing rows come out blank), so a file cut in
/// transit would be judged as a different picture: check each format's end marker (or, for WebP, the
/// length its RIFF header declares) first.
fn truncated(format: ImageFormat, bytes: &[u8]) -> Option<&'static str> {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    match format {
        // IEND's type and CRC must both have arrived (trailing bytes after it are tolerated).
        ImageFormat::Png if !tail.windows(4).enumerate().any(|(i, w)| w == b"IEND" && i + 8 <= tail.len()) => {
            Some("the PNG has no complete IEND chunk: the file is truncated")
        }
        ImageFormat::Jpeg if !tail.windows(2).any(|w| w == [0xff, 0xd9]) => {
            Some("the JPEG has no end-of-image marker: the file is truncated")
        }
        ImageFormat::WebP => {
            let declared = bytes.get(4..8).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize + 8);
            declared
                .filter(|&d| d > bytes.len())
                .map(|_| "the WebP is shorter than its RIFF header says: the file is truncated")
        }
        // The trailer byte, optionally followed by zero padding. Without the check, a GIF cut inside the
        // last few bytes of its pixel data, or anywhere after its first frame, would decode as if whole.
        ImageFormat::Gif if bytes.iter().rev().find(|&&b| b != 0) != Some(&0x3b) => {
            Some("the GIF has no trailer: the file is truncated")
        }
        _ => None,
    }
}

/// RGB over a white background.
fn flatten(img: DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.into_rgb8();
    }
    let rgba = img.into_rgba8();
    let (w, h) = rgba.dimensions();
    RgbImage::from_fn(w, h, |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let mix = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb, RgbImage};

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 7]));
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 7]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    #[test]
    fn decodes_png_and_jpeg() {
        let l = DecodeLimits::default();
        assert_eq!(decode(&png(40, 30), &l).unwrap().dimensions(), (40, 30));
        assert_eq!(decode(&jpeg(64, 16), &l).unwrap().dimensions(), (64, 16));
    }

    #[test]
    fn refuses_empty_garbage_and_unsupported() {
        let l = DecodeLimits::default();
        assert_eq!(decode(b"", &l).unwrap_err().code(), "image-empty");
        assert_eq!(decode(b"hello, not an image", &l).unwrap_err().code(), "image-unknown-format");
        assert_eq!(decode(b"BM\x00\x00\x00\x00\x00\x00", &l).unwrap_err().code(), "image-unsupported-format");
    }

    #[test]
    fn truncated_files_are_errors() {
        let l = DecodeLimits::default();
        for full in [png(100, 100), jpeg(100, 100)] {
            for cut in [8, 20, 60, 200, full.len() / 2, full.len() - 3] {
                let code = decode(&full[..cut], &l).err().map(|e| e.code());
                assert!(matches!(code, Some("image-corrupt" | "image-unknown-format")), "cut at {cut}: {code:?}");
            }
        }
    }

    #[test]
    fn limits_apply_before_decoding() {
        let small = DecodeLimits { max_bytes: 100, ..DecodeLimits::default() };
        assert_eq!(decode(&png(50, 50), &small).unwrap_err().code(), "image-too-many-bytes");
        let few = DecodeLimits { max_pixels: 1000, ..DecodeLimits::default() };
        assert_eq!(decode(&png(50, 50), &few).unwrap_err().code(), "image-too-large");
        let narrow = DecodeLimits { max_dimension: 32, ..DecodeLimits::default() };
        assert_eq!(decode(&png(50, 10), &narrow).unwrap_err().code(), "image-too-large");
    }

    #[test]
    fn decompression_bomb_header_is_refused_quickly() {
        // A valid PNG header claiming 60000×60000 followed by a tiny body: refused from the header alone.
        let mut bytes = png(1, 1);
        bytes[16..20].copy_from_slice(&60000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&60000u32.to_be_bytes());
        let t = std::time::Instant::now();
        let e = decode(&bytes, &DecodeLimits::default()).unwrap_err();
        assert!(matches!(e.code(), "image-too-large" | "image-corrupt"), "{e}");
        assert!(t.elapsed().as_millis() < 500);
    }

    #[test]
    fn transparent_pixels_become_white() {
        let img = image::RgbaImage::from_pixel(4, 4, image::Rgba([0, 0, 0, 0]));
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(img.as_raw(), 4, 4, image::ExtendedColorType::Rgba8)
            .unwrap();
        assert_eq!(decode(&out, &DecodeLimits::default()).unwrap().get_pixel(0, 0).0, [255, 255, 255]);
    }

    #[test]
    fn random_bytes_never_panic() {
        // A cheap in-tree fuzz pass (the real fuzzer is native-host/fuzz): corrupt valid files byte by byte.
        let l = DecodeLimits::default();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for base in [png(32, 32), jpeg(32, 32)] {
            for _ in 0..300 {
                let mut b = base.clone();
                for _ in 0..(1 + next() % 8) {
                    let i = (next() as usize) % b.len();
                    b[i] = next() as u8;
                }
                let _ = decode(&b, &l);
            }
        }
    }
}
