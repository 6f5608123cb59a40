//! The language half of the VLM: `embed_tokens.onnx` (token ids → embeddings) and `decoder_model_merged.onnx`
//! (embeddings + attention mask + positions + the past key/value cache → logits + the grown cache). The cache
//! layout (layer count, KV heads, head dim, float32 or float16) is read from the session's inputs, never
//! assumed, and the cache tensors the decoder returns are handed back to it as they are (no copy, no dtype
//! conversion between steps).

use std::path::{Path, PathBuf};

use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, Tensor, TensorElementType};

use super::VlmError;

/// How a floating-point tensor is stored: the decoder's cache, and any float input or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatType {
    F32,
    F16,
}

impl FloatType {
    pub fn name(self) -> &'static str {
        match self {
            FloatType::F32 => "float32",
            FloatType::F16 => "float16",
        }
    }

    fn of(ty: Option<TensorElementType>) -> Option<Self> {
        match ty {
            Some(TensorElementType::Float32) => Some(FloatType::F32),
            Some(TensorElementType::Float16) => Some(FloatType::F16),
            _ => None,
        }
    }
}

/// A float tensor of `shape` from f32 data, stored as `ty`.
pub(crate) fn float_tensor(ty: FloatType, shape: Vec<usize>, data: Vec<f32>) -> Result<DynValue, ort::Error> {
    Ok(match ty {
        FloatType::F32 => Tensor::from_array((shape, data))?.into_dyn(),
        FloatType::F16 => {
            let half: Vec<half::f16> = data.into_iter().map(half::f16::from_f32).collect();
            Tensor::from_array((shape, half))?.into_dyn()
        }
    })
}

/// A float tensor's shape and data as f32, whether it is stored as float32 or float16.
pub(crate) fn float_data(value: &DynValue) -> Result<(Vec<i64>, Vec<f32>), ort::Error> {
    if let Ok((shape, data)) = value.try_extract_tensor::<f32>() {
        return Ok((shape.iter().copied().collect(), data.to_vec()));
    }
    let (shape, data) = value.try_extract_tensor::<half::f16>()?;
    Ok((shape.iter().copied().collect(), data.iter().map(|h| h.to_f32()).collect()))
}

/// A float tensor's shape and its last `width` values as f32 (the last position's logits, without copying
/// the others).
fn float_tail(value: &DynValue, width: impl Fn(&[i64]) -> usize) -> Result<(Vec<i64>, Vec<f32>), ort::Error> {
    if let Ok((shape, data)) = value.try_extract_tensor::<f32>() {
        let n = width(shape).min(data.len());
        return Ok((shape.iter().copied().collect(), data[data.len() - n..].to_vec()));
    }
    let (shape, data) = value.try_extract_tensor::<half::f16>()?;
    let n = width(shape).min(data.len());
    Ok((shape.iter().copied().collect(), data[data.len() - n..].iter().map(|h| h.to_f32()).collect()))
}

/// The float type of input `name`, or why the graph does not fit.
pub(crate) fn float_input(session: &Session, path: &Path, name: &str) -> Result<FloatType, VlmError> {
    let input =
        session.inputs().iter().find(|i| i.name() == name).ok_or_else(|| VlmError::missing_input(path, name))?;
    FloatType::of(input.dtype().tensor_type()).ok_or_else(|| VlmError::Interface {
        model: path.to_path_buf(),
        message: format!("input `{name}` is {:?}; expected a float32 or float16 tensor", input.dtype()),
    })
}

/// Whether the session has an input called `name`.
pub(crate) fn has_input(session: &Session, name: &str) -> bool {
    session.inputs().iter().any(|i| i.name() == name)
}

/// Whether the session has an output called `name`.
pub(crate) fn has_output(session: &Session, name: &str) -> bool {
    session.outputs().iter().any(|o| o.name() == name)
}

/// The decoder's key/value cache as its graph declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvLayout {
    pub layers: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub dtype: FloatType,
    /// `past_key_values.{i}.{key,value}` in layer order, key before value.
    past_names: Vec<String>,
    /// `present.{i}.{key,value}`, in the same order.
    present_names: Vec<String>,
}

impl KvLayout {
    /// Read the layout from the decoder's inputs and check every output it needs is there.
    pub fn read(session: &Session, path: &Path) -> Result<Self, VlmError> {
        for name in ["inputs_embeds", "attention_mask"] {
            if !has_input(session, name) {
                return Err(VlmError::missing_input(path, name));
            }
        }
        if !has_output(session, "logits") {
            return Err(VlmError::missing_output(path, "logits"));
        }
        let layers = (0..).take_while(|i| has_input(session, &format!("past_key_values.{i}.key"))).count();
        if layers == 0 {
            return Err(VlmError::missing_input(path, "past_key_values.0.key"));
        }
        let mut past_names = Vec::with_capacity(2 * layers);
        let mut present_names = Vec::with_capacity(2 * layers);
        let mut first: Option<(FloatType, i64, i64)> = None;
        for i in 0..layers {
            for part in ["key", "value"] {
                let past = format!("past_key_values.{i}.{part}");
                let present = format!("present.{i}.{part}");
                let input = session
                    .inputs()
                    .iter()
                    .find(|x| x.name() == past)
                    .ok_or_else(|| VlmError::missing_input(path, &past))?;
                if !has_output(session, &present) {
                    return Err(VlmError::missing_output(path, &present));
                }
                let bad = |why: String| VlmError::Interface { model: path.to_path_buf(), message: why };
                let dtype = FloatType::of(input.dtype().tensor_type()).ok_or_else(|| {
                    bad(format!("input `{past}` is {:?}; expected float32 or float16", input.dtype()))
                })?;
                let shape: Vec<i64> =
                    input.dtype().tensor_shape().map(|s| s.iter().copied().collect()).unwrap_or_default();
                if shape.len() != 4 || shape[1] <= 0 || shape[3] <= 0 {
                    return Err(bad(format!(
                        "input `{past}` has shape {shape:?}; expected [batch, kv_heads, past, head_dim] with fixed kv_heads and head_dim"
                    )));
                }
                let this = (dtype, shape[1], shape[3]);
                match first {
                    None => first = Some(this),
                    Some(f) if f != this => {
                        return Err(bad(format!(
                            "input `{past}` is {} [_, {}, _, {}] but layer 0's key is {} [_, {}, _, {}]",
                            this.0.name(),
                            this.1,
                            this.2,
                            f.0.name(),
                            f.1,
                            f.2
                        )))
                    }
                    Some(_) => {}
                }
                past_names.push(past);
                present_names.push(present);
            }
        }
        let (dtype, kv_heads, head_dim) = first.expect("at least one layer");
        Ok(KvLayout {
            layers,
            kv_heads: kv_heads as usize,
            head_dim: head_dim as usize,
            dtype,
            past_names,
            present_names,
        })
    }
}

/// The past keys and values of one sequence (batch 1), as the decoder returned them.
#[derive(Debug)]
pub struct KvCache {
    values: Vec<DynValue>,
    /// Tokens the cache holds.
    len: usize,
}

impl KvCache {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Token embedding + decoder sessions of one model folder.
pub struct LanguageModel {
    embed: Session,
    decoder: Session,
    decoder_path: PathBuf,
    embed_path: PathBuf,
    pub layout: KvLayout,
    /// Width of the embeddings the decoder takes.
    pub hidden: usize,
    embeds_type: FloatType,
    position_ids: bool,
    /// Older merged exports switch between their two branches with a boolean input.
    use_cache_branch: bool,
}

impl std::fmt::Debug for LanguageModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanguageModel")
            .field("decoder", &self.decoder_path)
            .field("layout", &self.layout)
            .field("hidden", &self.hidden)
            .finish_non_exhaustive()
    }
}

impl LanguageModel {
    /// Check both graphs against the interface and keep them.
    pub fn new(embed: Session, embed_path: &Path, decoder: Session, decoder_path: &Path) -> Result<Self, VlmError> {
        if !has_input(&embed, "input_ids") {
            return Err(VlmError::missing_input(embed_path, "input_ids"));
        }
        if !has_output(&embed, "inputs_embeds") {
            return Err(VlmError::missing_output(embed_path, "inputs_embeds"));
        }
        let layout = KvLayout::read(&decoder, decoder_path)?;
        let embeds_type = float_input(&decoder, decoder_path, "inputs_embeds")?;
        let hidden = decoder
            .inputs()
            .iter()
            .find(|i| i.name() == "inputs_embeds")
            .and_then(|i| i.dtype().tensor_shape().and_then(|s| s.last().copied()))
            .filter(|&h| h > 0)
            .ok_or_else(|| VlmError::Interface {
                model: decoder_path.to_path_buf(),
                message: "input `inputs_embeds` has no fixed last dimension (the hidden size)".into(),
            })? as usize;
        Ok(LanguageModel {
            position_ids: has_input(&decoder, "position_ids"),
            use_cache_branch: has_input(&decoder, "use_cache_branch"),
            embed,
            decoder,
            decoder_path: decoder_path.to_path_buf(),
            embed_path: embed_path.to_path_buf(),
            layout,
            hidden,
            embeds_type,
        })
    }

    /// An empty cache: `[1, kv_heads, 0, head_dim]` tensors of the graph's dtype.
    pub fn empty_cache(&self) -> Result<KvCache, VlmError> {
        let l = &self.layout;
        let values = (0..2 * l.layers)
            .map(|_| float_tensor(l.dtype, vec![1, l.kv_heads, 0, l.head_dim], Vec::new()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(KvCache { values, len: 0 })
    }

    /// Token embeddings `[ids.len() × hidden]` as f32.
    pub fn embed(&mut self, ids: &[i64]) -> Result<Vec<f32>, VlmError> {
        let input = Tensor::from_array(([1usize, ids.len()], ids.to_vec()))?;
        let outputs = self.embed.run(ort::inputs!["input_ids" => input])?;
        let (shape, data) = float_data(&outputs["inputs_embeds"])?;
        if shape != [1, ids.len() as i64, self.hidden as i64] {
            return Err(VlmError::OutputShape {
                model: self.embed_path.clone(),
                output: "inputs_embeds",
                shape,
                expected: format!("[1, {}, {}]", ids.len(), self.hidden),
            });
        }
        Ok(data)
    }

    /// Run `seq` new positions (`embeds` is `[seq × hidden]`) after what `cache` holds; grows the cache and
    /// returns the logits of the last position. On an error the cache is left as it was.
    pub fn forward(&mut self, embeds: Vec<f32>, cache: &mut KvCache) -> Result<Vec<f32>, VlmError> {
        let (logits, grown) = self.extend(embeds, cache)?;
        *cache = grown;
        Ok(logits)
    }

    /// Run `embeds` after what `cache` holds, leaving `cache` untouched: the last position's logits and the
    /// grown cache. The cache tensors are only read, so one cache (a shared prompt prefix) can be extended
    /// several ways without copying it.
    pub fn extend(&mut self, embeds: Vec<f32>, cache: &KvCache) -> Result<(Vec<f32>, KvCache), VlmError> {
        let seq = embeds.len() / self.hidden;
        assert_eq!(seq * self.hidden, embeds.len(), "embeddings must be whole rows of the hidden size");
        let total = cache.len + seq;
        let mut inputs: Vec<(&str, SessionInputValue<'_>)> = Vec::with_capacity(4 + cache.values.len());
        inputs.push(("inputs_embeds", float_tensor(self.embeds_type, vec![1, seq, self.hidden], embeds)?.into()));
        inputs.push(("attention_mask", Tensor::from_array(([1usize, total], vec![1i64; total]))?.into()));
        if self.position_ids {
            let positions: Vec<i64> = (cache.len as i64..total as i64).collect();
            inputs.push(("position_ids", Tensor::from_array(([1usize, seq], positions))?.into()));
        }
        if self.use_cache_branch {
            inputs.push(("use_cache_branch", Tensor::from_array(([1usize], vec![cache.len > 0]))?.into()));
        }
        for (name, value) in self.layout.past_names.iter().zip(&cache.values) {
            inputs.push((name.as_str(), value.into()));
        }
        let mut outputs = self.decoder.run(inputs)?;
        let (shape, last) = float_tail(&outputs["logits"], |s| s.last().copied().unwrap_or(0).max(0) as usize)?;
        if shape.len() != 3 || shape[0] != 1 || shape[1] != seq as i64 || last.is_empty() {
            return Err(VlmError::OutputShape {
                model: self.decoder_path.clone(),
                output: "logits",
                shape,
                expected: format!("[1, {seq}, vocab]"),
            });
        }
        let mut grown = Vec::with_capacity(cache.values.len());
        for name in &self.layout.present_names {
            let value =
                outputs.remove(name.as_str()).ok_or_else(|| VlmError::missing_output(&self.decoder_path, name))?;
            grown.push(value);
        }
        Ok((last, KvCache { values: grown, len: total }))
    }
}

/// Index of the largest value (the first one on ties, as NumPy's argmax).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_of_equal_maxima() {
        assert_eq!(argmax(&[0.0, 3.0, 1.0, 3.0]), 1);
        assert_eq!(argmax(&[-1.0]), 0);
    }

    #[test]
    fn float_types_map_from_onnx_element_types() {
        assert_eq!(FloatType::of(Some(TensorElementType::Float16)), Some(FloatType::F16));
        assert_eq!(FloatType::of(Some(TensorElementType::Float32)), Some(FloatType::F32));
        assert_eq!(FloatType::of(Some(TensorElementType::Int64)), None);
        assert_eq!(FloatType::of(None), None);
    }
}
