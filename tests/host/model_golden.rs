//! The real int8 judge graph through ONNX Runtime gives the recorded token ids and the stock MiniLM sentence
//! embeddings (bit for bit the stock graph's: user-defined categories did not change), stays close to the fp32
//! reference, and the shipped heads on its task embedding give the recorded probabilities (golden values
//! written by `models/scripts/export_minilm.py` and `models/scripts/calibrate_judge.py`).
//!
//! The int8 numbers depend on the CPU: ONNX Runtime's int8 kernels round differently with and without
//! AVX-512 VNNI (the golden values were written on one machine, CI may run on another). Measured between an
//! AVX2-only AMD EPYC and the machine that wrote them: int8 embedding dimensions up to 0.017 apart, pair
//! cosines 0.013, head probabilities up to 0.069 (a technique sub-label near the steep part of its
//! sigmoid; the categories 0.047). The int8 tolerances below allow for that with some margin — a wrong
//! model, tokenizer or pooling lands far outside them — and the fp32 path is compared with the NumPy
//! reference to 1e-4 everywhere.

mod common;

use feedwarden_core::fewshot::cosine;
use feedwarden_core::heads::builtin_head;
use feedwarden_host::embedder::{Embedder, EmbedderOptions};
use serde_json::Value;

/// How far an int8 embedding dimension may be from the golden value (see the module's note on CPUs).
const INT8_DIM_TOLERANCE: f32 = 0.04;
/// How far the cosine of two int8 embeddings may be from the golden value.
const INT8_COSINE_TOLERANCE: f32 = 0.03;
/// How far a head's probability on the int8 embedding may be from the golden value.
const INT8_PROBABILITY_TOLERANCE: f32 = 0.1;

fn golden(name: &str) -> Value {
    let path = common::repo_root().join("models/golden").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn embedder(models: &std::path::Path, file: &str) -> Embedder {
    let opts = EmbedderOptions::new(models.join("onnxruntime/libonnxruntime.so"), models).with_model_file(file);
    Embedder::try_new(&opts).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

#[test]
fn minilm_matches_golden_values() {
    let Some(models) = common::models_dir() else {
        return;
    };
    let g = golden("minilm_golden.json");
    let mut int8 = embedder(&models, "model.int8.onnx");
    let mut fp32 = embedder(&models, "model.onnx");
    let sentences = g["sentences"].as_array().unwrap();
    let mut int8_embeddings = Vec::new();
    for s in sentences {
        let text = s["text"].as_str().unwrap();
        let ids: Vec<u32> = s["input_ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
        assert_eq!(int8.token_ids(text).unwrap(), ids, "{text}");
        let e8 = int8.embed(&[text]).unwrap().remove(0);
        let e32 = fp32.embed(&[text]).unwrap().remove(0);
        assert_eq!(e8.len(), 384);
        let norm: f32 = e8.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "embedding is L2-normalised: {norm}");
        for (i, (got, want)) in e8.iter().zip(floats(&s["embedding_int8_first8"])).enumerate() {
            assert!((got - want).abs() < INT8_DIM_TOLERANCE, "{text}: int8 dim {i}: {got} vs {want}");
        }
        for (i, (got, want)) in e32.iter().zip(floats(&s["embedding_fp32_reference_first8"])).enumerate() {
            assert!((got - want).abs() < 1e-4, "{text}: fp32 dim {i}: {got} vs NumPy reference {want}");
        }
        let c = cosine(&e8, &e32);
        assert!(c >= 0.97, "{text}: int8 vs fp32 cosine {c}");
        int8_embeddings.push(e8);
    }
    for p in g["pairs"].as_array().unwrap() {
        let (a, b) = (p["a"].as_u64().unwrap() as usize, p["b"].as_u64().unwrap() as usize);
        let want = p["cosine_int8"].as_f64().unwrap() as f32;
        let got = cosine(&int8_embeddings[a], &int8_embeddings[b]);
        assert!((got - want).abs() < INT8_COSINE_TOLERANCE, "pair {a},{b}: {got} vs {want}");
    }
}

#[test]
fn shipped_heads_match_golden_probabilities() {
    let Some(models) = common::models_dir() else {
        return;
    };
    let g = golden("heads_golden.json");
    let mut int8 = embedder(&models, "model.int8.onnx");
    for s in g["sentences"].as_array().unwrap() {
        let text = s["text"].as_str().unwrap();
        let e = int8.encode(&[text]).unwrap().remove(0).task;
        for (key, want) in s["probabilities"].as_object().unwrap() {
            let want = want.as_f64().unwrap() as f32;
            let got = match key.split_once('/') {
                None => builtin_head(key).unwrap().probability(&e),
                Some((head, sub)) => {
                    let subs = builtin_head(head).unwrap().sub_probabilities(&e);
                    subs.iter().find(|(id, _)| id == sub).unwrap_or_else(|| panic!("no sub-label {key}")).1
                }
            };
            assert!((got - want).abs() < INT8_PROBABILITY_TOLERANCE, "{text}: {key} = {got}, golden {want}");
        }
    }
}

#[test]
fn judge_sentence_embedding_is_the_stock_one_bit_for_bit() {
    let Some(models) = common::models_with(&["all-minilm-l6-v2/model.int8.onnx"], "the stock encoder") else {
        return;
    };
    let mut judge = embedder(&models, "model.int8.onnx");
    let mut opts = EmbedderOptions::new(models.join("onnxruntime/libonnxruntime.so"), &models);
    opts.model_dir = models.join("all-minilm-l6-v2");
    opts.task_file = None;
    let mut stock = Embedder::try_new(&opts).unwrap();
    let texts = ["Comment YES if you agree!", "The council meets on Tuesday.", "lol ok", "These idiots… 😡"];
    for t in texts {
        let j = judge.encode(&[t]).unwrap().remove(0);
        assert_eq!(j.embedding, stock.embed(&[t]).unwrap().remove(0), "{t}");
        assert_eq!(j.task.len(), 384, "{t}");
        assert_ne!(j.task, j.embedding, "{t}: the task embedding comes from the fine-tuned branch");
    }
    // The pruned graph (what the host runs when no rule needs the sentence embedding) gives the same task
    // embedding as the full graph.
    let mut pruned =
        Embedder::try_new(&EmbedderOptions::new(models.join("onnxruntime/libonnxruntime.so"), &models)).unwrap();
    for t in texts {
        let p = pruned.encode_task(&[t]).unwrap().remove(0);
        assert!(p.embedding.is_empty(), "{t}");
        assert_eq!(p.task, judge.encode(&[t]).unwrap().remove(0).task, "{t}");
    }
    // A batch too (padding, per-batch activation scales): still identical.
    let batch: Vec<Vec<f32>> = judge.encode(&texts).unwrap().into_iter().map(|e| e.embedding).collect();
    assert_eq!(batch, stock.embed(&texts).unwrap());
}
