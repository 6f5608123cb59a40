//! The tiny model itself: a pruned, int8-quantised static token-embedding table with its own greedy
//! tokenizer, mean pooling, centring and L2 normalisation. `models/scripts/train_tiny.py` writes the file
//! and computes exactly the same numbers (checked against `models/tiny/golden.json` by the tests).

use std::collections::HashMap;
use std::fmt;

/// File magic of `models/tiny/feedwarden-tiny.bin` (v8: with the hashed token-bigram table).
pub const MAGIC: &[u8; 8] = b"FWTINY03";

/// File magic of v2…v7's format, without the bigram table (still read: the features then stop after the
/// surface features).
pub const MAGIC_NO_BIGRAMS: &[u8; 8] = b"FWTINY02";

/// Errors from reading a tiny model file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TinyError {
    #[error("not a Feedwarden tiny model file (bad magic)")]
    Magic,
    #[error("tiny model file is truncated: needs {needed} bytes for {what}, has {available}")]
    Truncated { what: &'static str, needed: usize, available: usize },
    #[error("tiny model vocabulary is not UTF-8")]
    Vocabulary,
    #[error("tiny model declares {declared} tokens but its vocabulary lists {listed}")]
    TokenCount { declared: usize, listed: usize },
    #[error("tiny model's bigram table is malformed: {0}")]
    Bigrams(&'static str),
    #[error("tiny model file has {0} bytes after its end")]
    Trailing(usize),
}

/// Names of the surface features that follow the embedding in [`TinyModel::features`]. Mean pooling forgets
/// length and punctuation, which the native judge notices; the heads learn how much they matter. There is no
/// case feature: the native judge is uncased (a case feature taught the model "Title Case = clickbait").
pub const SURFACE_FEATURES: [&str; 8] = [
    "ln(1+tokens)",
    "ln(1+tokens)^2",
    "ln(1+chars)",
    "has ?",
    "has !",
    "has http",
    "has newline",
    "starts with an ASCII digit",
];

fn surface_features(text: &str, n_tokens: usize) -> [f32; 8] {
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    let lt = (n_tokens as f32).ln_1p();
    [
        lt,
        lt * lt,
        (text.chars().count() as f32).ln_1p(),
        flag(text.contains('?')),
        flag(text.contains('!')),
        flag(text.contains("http")),
        flag(text.contains('\n')),
        flag(text.starts_with(|c: char| c.is_ascii_digit())),
    ]
}

/// Characters the tokenizer drops, as `core::text::normalize` does.
fn is_dropped(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}') || c.is_control()
}

/// A static token-embedding sentence model (see `models/cards/tiny.md`):
///
/// * tokens: each whitespace-separated word `w`, lowercased character by character (`char::to_lowercase`, as
///   the uncased native judge sees it), becomes `"▁" + w`, matched greedily against the vocabulary,
///   longest token first (at most `max_token_chars` characters); a character that no token starts with is
///   skipped; at most `max_tokens` tokens per text;
/// * embedding: `normalize(mean(rows of the tokens) − mean_vector)`, the zero vector when there is no token;
/// * bigram features (v8, `FWTINY03`): each adjacent pair of tokens among the first `tokens_read`, the first
///   pair being (start, first token), picks a row of a hashed table (`Bigrams::bucket`); their mean (zeros
///   when there is no token);
/// * features (what the heads read): the embedding followed by [`SURFACE_FEATURES`] and the bigram features.
///
/// The rows are stored as int8 with one f32 scale per row (`row = q · scale`); the bigram table as signed 4- or
/// 8-bit integers with one scale for the table.
pub struct TinyModel {
    dim: usize,
    max_tokens: usize,
    max_token_chars: usize,
    mean: Vec<f32>,
    scales: Vec<f32>,
    table: Vec<i8>,
    vocab: HashMap<Box<str>, u32>,
    bigrams: Option<Bigrams>,
}

/// The hashed token-bigram table, one i8 per value after unpacking (128 KB for v8), `value = q · scale`.
struct Bigrams {
    /// log2 of the number of rows.
    bits: u32,
    dim: usize,
    tokens_read: usize,
    scale: f32,
    rows: Vec<i8>,
}

impl Bigrams {
    /// The row of the token pair (`prev`, `next`), where `prev` is 0 for the start and token id + 1 otherwise:
    /// the top bits of `((prev << 16) + next + 1) · 0x9E3779B97F4A7C15` (wrapping).
    fn bucket(&self, prev: u64, next: u32) -> usize {
        let key = (prev << 16).wrapping_add(u64::from(next) + 1);
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.bits)) as usize
    }

    fn read(r: &mut Reader<'_>, vocab_size: usize) -> Result<Self, TinyError> {
        let buckets = r.u32("the bigram header")?;
        let dim = r.u32("the bigram header")?;
        let tokens_read = r.u32("the bigram header")?;
        let value_bits = r.u32("the bigram header")?;
        let scale = r.f32s(1, "the bigram scale")?[0];
        if !buckets.is_power_of_two() || !(2..=1 << 24).contains(&buckets) {
            return Err(TinyError::Bigrams("the number of rows is not a power of two from 2 to 2^24"));
        }
        if dim == 0 || dim > 256 || tokens_read == 0 || vocab_size >= 1 << 16 {
            return Err(TinyError::Bigrams("width, tokens read or vocabulary size out of range"));
        }
        if !scale.is_finite() {
            return Err(TinyError::Bigrams("the scale is not finite"));
        }
        // at most 64 Mi values (and no overflow of a 32-bit usize on wasm32); the file must hold them all anyway
        let n =
            buckets.checked_mul(dim).filter(|&n| n <= 1 << 26).ok_or(TinyError::Bigrams("the table is too large"))?;
        let rows: Vec<i8> = match value_bits {
            8 => r.take(n, "the bigram table")?.iter().map(|&b| b as i8).collect(),
            4 => r
                .take(n.div_ceil(2), "the bigram table")?
                .iter()
                // two's complement nibbles, the first value in the low one
                .flat_map(|&b| [((b << 4) as i8) >> 4, (b as i8) >> 4])
                .take(n)
                .collect(),
            _ => return Err(TinyError::Bigrams("values are neither 4 nor 8 bits")),
        };
        Ok(Bigrams { bits: buckets.trailing_zeros(), dim, tokens_read, scale, rows })
    }

    /// Mean of the rows of the text's token pairs, added to `out`.
    fn features(&self, ids: &[u32], out: &mut Vec<f32>) {
        let start = out.len();
        out.resize(start + self.dim, 0.0);
        let sum = &mut out[start..];
        let read = &ids[..ids.len().min(self.tokens_read)];
        let mut prev = 0u64;
        for &t in read {
            let b = self.bucket(prev, t);
            for (s, &q) in sum.iter_mut().zip(&self.rows[b * self.dim..(b + 1) * self.dim]) {
                *s += f32::from(q) * self.scale;
            }
            prev = u64::from(t) + 1;
        }
        let n = read.len();
        if n > 0 {
            for s in sum.iter_mut() {
                *s /= n as f32;
            }
        }
    }
}

impl fmt::Debug for TinyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TinyModel")
            .field("tokens", &self.vocab.len())
            .field("dim", &self.dim)
            .field("max_tokens", &self.max_tokens)
            .finish_non_exhaustive()
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], TinyError> {
        let available = self.bytes.len() - self.pos;
        if n > available {
            return Err(TinyError::Truncated { what, needed: n, available });
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn u32(&mut self, what: &'static str) -> Result<usize, TinyError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn f32s(&mut self, n: usize, what: &'static str) -> Result<Vec<f32>, TinyError> {
        let b = self.take(n * 4, what)?;
        Ok(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }
}

impl TinyModel {
    /// Read a model from the bytes of `feedwarden-tiny.bin` (little-endian: magic, u32 tokens, dim,
    /// max_tokens, max_token_chars; f32 mean[dim]; f32 scales[tokens]; i8 table[tokens·dim]; u32 length and
    /// the vocabulary as UTF-8 lines, in row order; then, for `FWTINY03`, the bigram table: u32 rows (a power of
    /// two), width, tokens read and bits per value (4 or 8); f32 scale; the values row by row, two's complement,
    /// two per byte for 4 bits with the first in the low nibble).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TinyError> {
        let mut r = Reader { bytes, pos: 0 };
        let magic = r.take(8, "the magic")?;
        if magic != MAGIC && magic != MAGIC_NO_BIGRAMS {
            return Err(TinyError::Magic);
        }
        let n = r.u32("the header")?;
        let dim = r.u32("the header")?;
        let max_tokens = r.u32("the header")?;
        let max_token_chars = r.u32("the header")?;
        let mean = r.f32s(dim, "the mean vector")?;
        let scales = r.f32s(n, "the row scales")?;
        let table = r.take(n * dim, "the embedding table")?.iter().map(|&b| b as i8).collect();
        let len = r.u32("the vocabulary length")?;
        let text = std::str::from_utf8(r.take(len, "the vocabulary")?).map_err(|_| TinyError::Vocabulary)?;
        let vocab: HashMap<Box<str>, u32> =
            text.split('\n').enumerate().map(|(i, t)| (Box::from(t), i as u32)).collect();
        if vocab.len() != n {
            return Err(TinyError::TokenCount { declared: n, listed: vocab.len() });
        }
        let bigrams = if magic == MAGIC { Some(Bigrams::read(&mut r, n)?) } else { None };
        if r.pos != bytes.len() {
            return Err(TinyError::Trailing(bytes.len() - r.pos));
        }
        Ok(TinyModel { dim, max_tokens, max_token_chars, mean, scales, table, vocab, bigrams })
    }

    /// Embedding dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of tokens in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// Token ids of a text (rows of the table), as described on [`TinyModel`].
    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        let mut word = String::from("\u{2581}");
        let mut chars = text.chars().filter(|&c| c.is_whitespace() || !is_dropped(c)).peekable();
        while chars.peek().is_some() {
            word.truncate('\u{2581}'.len_utf8());
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                word.extend(c.to_lowercase());
            }
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            if word.len() > '\u{2581}'.len_utf8() && self.tokenize_word(&word, &mut ids) {
                break;
            }
        }
        ids
    }

    /// Greedy longest match of one `▁`-prefixed word; returns true once `max_tokens` is reached.
    fn tokenize_word(&self, word: &str, ids: &mut Vec<u32>) -> bool {
        // byte offset of every character boundary, end included
        let bounds: Vec<usize> = word.char_indices().map(|(i, _)| i).chain(std::iter::once(word.len())).collect();
        let chars = bounds.len() - 1;
        let mut i = 0;
        while i < chars {
            let longest = (i + self.max_token_chars).min(chars);
            match (i + 1..=longest).rev().find_map(|j| self.vocab.get(&word[bounds[i]..bounds[j]]).map(|&t| (j, t))) {
                Some((j, t)) => {
                    ids.push(t);
                    if ids.len() >= self.max_tokens {
                        return true;
                    }
                    i = j;
                }
                None => i += 1, // no token starts with this character: skip it
            }
        }
        false
    }

    /// The L2-normalised sentence embedding of a text (`dim` values; all zero when no token matched): what
    /// few-shot rules compare.
    pub fn embed(&self, text: &str) -> Vec<f32> {
        self.embed_tokens(&self.tokenize(text))
    }

    /// What the heads read ([`Self::feature_dim`] values): the embedding followed by the surface features
    /// ([`SURFACE_FEATURES`]) and, with a bigram table, the mean of the text's bigram rows. `text` should be
    /// normalised (`Post::judged_text`).
    pub fn features(&self, text: &str) -> Vec<f32> {
        let ids = self.tokenize(text);
        let mut out = self.embed_tokens(&ids);
        out.extend(surface_features(text, ids.len()));
        if let Some(b) = &self.bigrams {
            b.features(&ids, &mut out);
        }
        out
    }

    /// Length of [`Self::features`]: the `dim` of the tiny heads.
    pub fn feature_dim(&self) -> usize {
        self.dim + SURFACE_FEATURES.len() + self.bigrams.as_ref().map_or(0, |b| b.dim)
    }

    fn embed_tokens(&self, ids: &[u32]) -> Vec<f32> {
        let mut sum = vec![0.0f32; self.dim];
        if ids.is_empty() {
            return sum;
        }
        for &t in ids {
            let t = t as usize;
            let scale = self.scales[t];
            let row = &self.table[t * self.dim..(t + 1) * self.dim];
            for (s, &q) in sum.iter_mut().zip(row) {
                *s += f32::from(q) * scale;
            }
        }
        let n = ids.len() as f32;
        for (s, m) in sum.iter_mut().zip(&self.mean) {
            *s = *s / n - m;
        }
        let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for s in &mut sum {
                *s /= norm;
            }
        }
        sum
    }
}
