//! Safe decoding of untrusted images, format by format: WebP, GIF (first frame of an animation), EXIF
//! orientation, decompression bombs, truncated files, empty input and wrong magic each give their documented
//! error code — never a panic — and the `image` crate's allocation limit is applied to every format. Ends
//! with a fuzz smoke pass (thousands of mutated and cut real files through the decoder entry point), the
//! stable stand-in for the cargo-fuzz target in native-host/fuzz. Needs no model.

mod common;

use std::time::Instant;

use feedwarden_host::images::{decode, DecodeError, DecodeLimits};
use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{Delay, Frame, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

const RED: [u8; 3] = [220, 20, 20];
const BLUE: [u8; 3] = [20, 20, 220];

/// Left half red, right half blue: which side ends up where shows the orientation applied.
fn halves(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, _| Rgb(if x < w / 2 { RED } else { BLUE }))
}

/// A pattern with edges everywhere, so the encoders have real work and mutations hit real data.
fn pattern(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| Rgb([(x * 7 % 256) as u8, (y * 5 % 256) as u8, ((x ^ y) % 256) as u8]))
}

fn png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn webp(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// An animated GIF: one frame per colour, each 100 ms.
fn gif(frames: &[[u8; 3]], w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut out);
        enc.set_repeat(image::codecs::gif::Repeat::Infinite).unwrap();
        for c in frames {
            let buf = RgbaImage::from_pixel(w, h, Rgba([c[0], c[1], c[2], 255]));
            enc.encode_frame(Frame::from_parts(buf, 0, 0, Delay::from_numer_denom_ms(100, 1))).unwrap();
        }
    }
    out
}

/// A one-frame GIF of `img` (quantised to 256 colours by the encoder).
fn gif_of(img: &RgbImage) -> Vec<u8> {
    let rgba = image::DynamicImage::ImageRgb8(img.clone()).into_rgba8();
    let mut out = Vec::new();
    GifEncoder::new(&mut out).encode_frame(Frame::new(rgba)).unwrap();
    out
}

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(&x, y)| x.abs_diff(y) <= 40)
}

fn code(r: Result<RgbImage, DecodeError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => {
            assert!(!e.to_string().is_empty(), "every error has a reason");
            e.code()
        }
    }
}

/// The error, or a failure that names the case (an image's Debug output is megabytes).
fn error(r: Result<RgbImage, DecodeError>, what: &str) -> DecodeError {
    match r {
        Ok(img) => panic!("{what}: decoded to {}×{} instead of an error", img.width(), img.height()),
        Err(e) => e,
    }
}

#[test]
fn webp_lossless_decodes_exactly() {
    let img = pattern(37, 23);
    let out = decode(&webp(&img), &DecodeLimits::default()).unwrap();
    assert_eq!(out, img, "lossless WebP must come back pixel for pixel");
}

#[test]
fn animated_gif_gives_its_first_frame() {
    let bytes = gif(&[RED, BLUE, [20, 200, 20]], 16, 12);
    let out = decode(&bytes, &DecodeLimits::default()).unwrap();
    assert_eq!(out.dimensions(), (16, 12));
    for p in out.pixels() {
        assert!(close(p.0, RED), "the first frame is red, got {:?}", p.0);
    }
    let second_first = decode(&gif(&[BLUE, RED], 16, 12), &DecodeLimits::default()).unwrap();
    assert!(close(second_first.get_pixel(0, 0).0, BLUE));
}

/// An EXIF APP1 segment (big-endian TIFF, one IFD entry: Orientation = `orientation`), inserted right after
/// the JPEG's SOI marker — what a phone camera writes.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend(b"MM\x00\x2a"); // big-endian TIFF, magic 42
    tiff.extend(8u32.to_be_bytes()); // first IFD right after the header
    tiff.extend(1u16.to_be_bytes()); // one entry
    tiff.extend(0x0112u16.to_be_bytes()); // tag: Orientation
    tiff.extend(3u16.to_be_bytes()); // type: SHORT
    tiff.extend(1u32.to_be_bytes()); // count
    tiff.extend(orientation.to_be_bytes());
    tiff.extend([0, 0]); // value padded to 4 bytes
    tiff.extend(0u32.to_be_bytes()); // no next IFD
    let mut payload = b"Exif\x00\x00".to_vec();
    payload.extend(tiff);
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend([0xff, 0xe1]);
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend(&jpeg[2..]);
    out
}

#[test]
fn exif_orientation_is_applied() {
    // 40 wide × 20 high, red on the left. Orientation 6 = the camera was turned: rotate 90° clockwise to view,
    // so red ends up on top; 8 = rotate 90° counter-clockwise, red at the bottom; 3 = 180°, red on the right.
    let base = jpeg(&halves(40, 20));
    let l = DecodeLimits::default();
    let plain = decode(&base, &l).unwrap();
    assert_eq!(plain.dimensions(), (40, 20));
    assert!(close(plain.get_pixel(2, 10).0, RED));

    let six = decode(&with_exif_orientation(&base, 6), &l).unwrap();
    assert_eq!(six.dimensions(), (20, 40), "orientation 6 swaps width and height");
    assert!(close(six.get_pixel(10, 2).0, RED), "orientation 6: red on top, got {:?}", six.get_pixel(10, 2).0);
    assert!(close(six.get_pixel(10, 37).0, BLUE));

    let eight = decode(&with_exif_orientation(&base, 8), &l).unwrap();
    assert_eq!(eight.dimensions(), (20, 40));
    assert!(close(eight.get_pixel(10, 37).0, RED), "orientation 8: red at the bottom");
    assert!(close(eight.get_pixel(10, 2).0, BLUE));

    let three = decode(&with_exif_orientation(&base, 3), &l).unwrap();
    assert_eq!(three.dimensions(), (40, 20));
    assert!(close(three.get_pixel(37, 10).0, RED), "orientation 3: red on the right");
    assert!(close(three.get_pixel(2, 10).0, BLUE));

    // Orientation 1 and a nonsense value leave the picture as it is.
    for o in [1, 0, 99] {
        let same = decode(&with_exif_orientation(&base, o), &l).unwrap();
        assert_eq!(same.dimensions(), (40, 20), "orientation {o}");
        assert!(close(same.get_pixel(2, 10).0, RED), "orientation {o}");
    }
}

/// Overwrite the dimensions a file's header declares, leaving the tiny body as it is.
fn bomb_png(w: u32, h: u32) -> Vec<u8> {
    let mut b = png(&pattern(2, 2));
    b[16..20].copy_from_slice(&w.to_be_bytes());
    b[20..24].copy_from_slice(&h.to_be_bytes());
    // Fix IHDR's CRC, so the refusal comes from the limits and not from the checksum.
    let crc = crc32(&b[12..29]);
    b[29..33].copy_from_slice(&crc.to_be_bytes());
    b
}

fn bomb_gif(w: u16, h: u16) -> Vec<u8> {
    let mut b = gif(&[RED], 2, 2);
    b[6..8].copy_from_slice(&w.to_le_bytes()); // logical screen width
    b[8..10].copy_from_slice(&h.to_le_bytes());
    b
}

fn bomb_webp(w: u32, h: u32) -> Vec<u8> {
    // Lossless: after "RIFF" size "WEBP" "VP8L" size, signature 0x2f, then 14 bits width-1, 14 bits height-1.
    let mut b = webp(&pattern(2, 2));
    assert_eq!(&b[12..16], b"VP8L");
    let bits = u32::from_le_bytes([b[21], b[22], b[23], b[24]]);
    let packed = (bits & !0x0fff_ffff) | ((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14);
    b[21..25].copy_from_slice(&packed.to_le_bytes());
    b
}

/// The extended (VP8X) header declares a 24-bit canvas: up to 16 M pixels a side, whatever the bitstream says.
fn bomb_webp_extended(w: u32, h: u32) -> Vec<u8> {
    let simple = webp(&pattern(2, 2));
    let mut vp8x = b"VP8X".to_vec();
    vp8x.extend(10u32.to_le_bytes());
    vp8x.extend([0, 0, 0, 0]); // no alpha, animation, ICC, EXIF or XMP
    vp8x.extend(&(w - 1).to_le_bytes()[..3]);
    vp8x.extend(&(h - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend(vp8x);
    body.extend(&simple[12..]);
    let mut b = b"RIFF".to_vec();
    b.extend((body.len() as u32).to_le_bytes());
    b.extend(body);
    b
}

fn bomb_jpeg(w: u16, h: u16) -> Vec<u8> {
    let mut b = jpeg(&pattern(8, 8));
    let sof = b.windows(2).position(|m| m == [0xff, 0xc0]).expect("baseline SOF0");
    b[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    b[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    b
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    let l = DecodeLimits::default();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("png 60000×60000", bomb_png(60_000, 60_000)),
        ("png 8000×8000 (sides allowed, pixels not)", bomb_png(8000, 8000)),
        ("gif 65535×65535", bomb_gif(65_535, 65_535)),
        ("gif 8000×6000", bomb_gif(8000, 6000)),
        ("webp 16000×16000", bomb_webp(16_000, 16_000)),
        ("webp (extended) 100000×100000", bomb_webp_extended(100_000, 100_000)),
        ("webp 8000×8000", bomb_webp(8000, 8000)),
        ("jpeg 65000×65000", bomb_jpeg(65_000, 65_000)),
        ("jpeg 8000×8000", bomb_jpeg(8000, 8000)),
    ];
    for (what, bytes) in cases {
        let t = Instant::now();
        let r = decode(&bytes, &l);
        let ms = t.elapsed().as_millis();
        let e = error(r, what);
        assert_eq!(e.code(), "image-too-large", "{what}: {e}");
        assert!(e.to_string().contains("over the limit"), "{what}: {e}");
        // Refused before any pixel buffer exists: far below what decoding 64 M pixels would take.
        assert!(ms < 2000, "{what} took {ms} ms");
    }
}

/// Errors give the size the header declares and the limits in words, never `0×0` or a debug dump; the
/// biggest simple lossless WebP (16384² — the codec refuses it as a generic error) is too large, not corrupt.
#[test]
fn size_errors_say_the_real_size_in_words() {
    let l = DecodeLimits::default();
    for (what, bytes, size) in [
        ("png", bomb_png(60_000, 60_000), "60000×60000"),
        ("png, one side", bomb_png(9000, 10), "9000×10"),
        ("jpeg", bomb_jpeg(65_000, 65_000), "65000×65000"),
        ("gif", bomb_gif(65_535, 65_535), "65535×65535"),
        ("webp 16384²", bomb_webp(16_384, 16_384), "16384×16384"),
        ("webp extended", bomb_webp_extended(100_000, 100_000), "100000×100000"),
    ] {
        let e = error(decode(&bytes, &l), what);
        let message = e.to_string();
        assert_eq!(e.code(), "image-too-large", "{what}: {message}");
        assert!(message.contains(size), "{what}: {message}");
        assert!(!message.contains("DecodeLimits") && !message.contains("0×0"), "{what}: {message}");
    }
}

#[test]
fn the_allocation_limit_applies_to_every_format() {
    // Dimensions and pixel count within the limits, but more bytes than max_alloc allows: the `image` crate's
    // own limit must stop each codec.
    let img = pattern(600, 600); // 1.08 MB as RGB8
    let tight = DecodeLimits { max_alloc: 256 << 10, ..DecodeLimits::default() };
    let files = [("png", png(&img)), ("jpeg", jpeg(&img)), ("webp", webp(&img)), ("gif", gif(&[RED], 600, 600))];
    for (what, bytes) in &files {
        assert_eq!(code(decode(bytes, &DecodeLimits::default())), "ok", "{what} decodes with the default limits");
        let e = error(decode(bytes, &tight), what);
        assert_eq!(e.code(), "image-too-large", "{what}: {e}");
    }
}

#[test]
fn truncated_files_of_every_format_are_errors() {
    let l = DecodeLimits::default();
    let img = pattern(120, 90);
    let files = [("png", png(&img)), ("jpeg", jpeg(&img)), ("webp", webp(&img)), ("gif", gif_of(&img))];
    for (what, full) in &files {
        assert_eq!(code(decode(full, &l)), "ok", "{what} whole");
        // Every cut of the GIF, as its LZW stream ends a few bytes before the file does.
        let cuts: Vec<usize> = if *what == "gif" {
            (1..full.len()).collect()
        } else {
            vec![1, 4, 11, 16, 30, 64, full.len() / 3, full.len() / 2, full.len() * 9 / 10, full.len() - 1]
        };
        for cut in cuts {
            if cut >= full.len() {
                continue;
            }
            let c = code(decode(&full[..cut], &l));
            assert!(
                matches!(c, "image-corrupt" | "image-unknown-format"),
                "{what} cut at {cut} of {}: {c}",
                full.len()
            );
        }
    }
}

#[test]
fn an_animation_cut_after_its_first_frame_is_an_error_too() {
    // Only the first frame is judged, but a file cut in transit is refused whatever it still holds.
    let one = gif(&[RED], 40, 30);
    let two = gif(&[RED, BLUE], 40, 30);
    let cut = &two[..one.len() + (two.len() - one.len()) / 2];
    assert_eq!(code(decode(cut, &DecodeLimits::default())), "image-corrupt");
    // Zero padding after the trailer is tolerated.
    let mut padded = two.clone();
    padded.extend([0; 16]);
    assert_eq!(code(decode(&padded, &DecodeLimits::default())), "ok");
}

#[test]
fn empty_zero_filled_and_wrong_magic() {
    let l = DecodeLimits::default();
    assert_eq!(code(decode(b"", &l)), "image-empty");
    assert_eq!(code(decode(&[0u8; 4096], &l)), "image-unknown-format");
    assert_eq!(code(decode(b"<html><body>not an image</body></html>", &l)), "image-unknown-format");
    // RIFF but a WAVE file, not WebP.
    assert_eq!(code(decode(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00", &l)), "image-unknown-format");
    // Known but refused formats.
    assert_eq!(code(decode(b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00", &l)), "image-unsupported-format");
    assert_eq!(code(decode(b"II\x2a\x00\x08\x00\x00\x00\x00\x00", &l)), "image-unsupported-format");
    // A PNG signature in front of a JPEG body, and a JPEG SOI in front of a PNG body.
    let mut png_on_jpeg = png(&pattern(4, 4))[..8].to_vec();
    png_on_jpeg.extend(&jpeg(&pattern(16, 16))[2..]);
    assert_eq!(code(decode(&png_on_jpeg, &l)), "image-corrupt");
    let mut jpeg_on_png = vec![0xff, 0xd8, 0xff];
    jpeg_on_png.extend(&png(&pattern(16, 16))[8..]);
    jpeg_on_png.extend([0xff, 0xd9]);
    assert_eq!(code(decode(&jpeg_on_png, &l)), "image-corrupt");
    // GIF magic with garbage after it.
    assert_eq!(code(decode(b"GIF89a\xff\xff", &l)), "image-corrupt");
}

#[test]
fn fuzz_smoke_mutated_and_cut_files_never_panic() {
    // The fuzz target's small limits: each case stays cheap.
    let limits = DecodeLimits { max_bytes: 1 << 20, max_dimension: 2048, max_pixels: 1 << 20, max_alloc: 64 << 20 };
    let img = pattern(48, 40);
    let seeds = [
        png(&img),
        jpeg(&img),
        webp(&img),
        gif(&[RED, BLUE], 24, 20),
        with_exif_orientation(&jpeg(&img), 6),
        bomb_png(5000, 5000),
        bomb_webp_extended(3000, 3000),
        gif_of(&img),
    ];
    // FEEDWARDEN_FUZZ_SEEDS=DIR writes the seeds as a starting corpus for the libFuzzer target
    // (native-host/fuzz/run.sh reads native-host/fuzz/corpus/decode_image/).
    if let Some(dir) = std::env::var_os("FEEDWARDEN_FUZZ_SEEDS") {
        std::fs::create_dir_all(&dir).unwrap();
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(std::path::Path::new(&dir).join(format!("seed-{i}")), seed).unwrap();
        }
    }
    let mut rng = common::Rng(0x9e37_79b9_7f4a_7c15);
    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    let t = Instant::now();
    let per_seed = 800;
    for seed in &seeds {
        for i in 0..per_seed {
            let mut b = seed.clone();
            match i % 4 {
                // Flip a few bytes anywhere.
                0 => {
                    for _ in 0..1 + rng.below(6) {
                        let at = rng.below(b.len());
                        b[at] = rng.next() as u8;
                    }
                }
                // Hit the header, where sizes and offsets live.
                1 => {
                    let at = rng.below(b.len().min(64));
                    b[at] = rng.next() as u8;
                }
                // Cut it.
                2 => b.truncate(rng.below(b.len())),
                // Splice in a copy of another part (repeated chunks, bad lengths).
                _ => {
                    let from = rng.below(b.len());
                    let len = rng.below(64).min(b.len() - from);
                    let chunk = b[from..from + len].to_vec();
                    let at = rng.below(b.len());
                    b.splice(at..at, chunk);
                }
            }
            let r = decode(&b, &limits);
            if let Ok(img) = &r {
                assert!(u64::from(img.width()) * u64::from(img.height()) <= limits.max_pixels);
            }
            *outcomes.entry(code(r)).or_default() += 1;
        }
    }
    let total: usize = outcomes.values().sum();
    eprintln!("fuzz smoke: {total} cases in {:.2} s: {outcomes:?}", t.elapsed().as_secs_f64());
    assert_eq!(total, seeds.len() * per_seed);
    assert!(outcomes.get("image-corrupt").copied().unwrap_or(0) > 0, "the mutations must reach the decoders");
}
