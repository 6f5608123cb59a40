//! Feedwarden's models through ONNX Runtime: the process's one runtime environment (telemetry off), the
//! sentence encoder, the image stages (safe decoding, OCR, NSFW, CLIP) and the generative VLM tier, with one
//! error type. Sessions run on CUDA when the GPU build of ONNX Runtime and a GPU are there, on the CPU
//! otherwise. No policy, storage or protocol plumbing lives here: the host and the CLI bring those.

pub mod embedder;
pub mod images;
pub mod local_file;
pub mod memory;
pub mod model_error;
pub mod ort_telemetry;
pub mod vlm;
