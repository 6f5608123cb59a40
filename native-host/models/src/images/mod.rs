//! Images on the host: safe decoding, where image bytes come from, OCR, NSFW, execution providers and the
//! per-image analysis the judge joins with a post's text, and the VLM stage that follows it for image rules.

pub mod analyzer;
pub mod clip;
pub mod decode;
pub mod image_rules;
pub mod nsfw;
pub mod ocr;
pub mod provider;
pub mod source;
pub mod stage;
pub mod vlm_stage;

pub use analyzer::{verdict_out, ImageAnalysis, ImageAnalyzer, ImageModelsOptions};
pub use decode::{decode, DecodeError, DecodeLimits};
