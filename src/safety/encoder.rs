//! The sentence encoder that reads an answer the way a person would: all-MiniLM-L6-v2,
//! fine-tuned once, offline, to tell an ordinary answer from one of the safety categories
//! (tools/safety-model/train.py; docs/safety.md).
//!
//! It runs on the CPU with candle's BERT and the tokenizer the base model came with. The
//! weights ship in `models/safety/`: a release build embeds them, so an installed binary
//! needs no file beside it; a development build reads them from the source tree, so the
//! test binaries stay small and a damaged file is reported by name instead of breaking the
//! build.
//!
//! The encoder only gives probabilities. What pauses a session is decided in
//! [`super::Profile::scan`], where the phrase patterns can add a pause the encoder missed.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::{Linear, Module, VarBuilder};
use candle_transformers::models::bert::{BertModel, Config};
use serde::Deserialize;
use tokenizers::Tokenizer;

use super::rows::Rows;
use super::vote::{Vote, VoteMeta};

/// The model's files, as bytes, and where they came from (for messages).
pub struct ModelFiles {
    /// The folder the files were read from, or `built in`.
    pub origin: PathBuf,
    weights: Cow<'static, [u8]>,
    tokenizer: Cow<'static, [u8]>,
    config: Cow<'static, [u8]>,
    meta: Cow<'static, [u8]>,
    /// The vote's files (src/safety/vote.rs), when there are any: a model trained without a
    /// vote is read alone.
    base_layers: Option<Cow<'static, [u8]>>,
    neighbours: Option<Cow<'static, [u8]>>,
}

const WEIGHTS: &str = "model.safetensors";
const TOKENIZER: &str = "tokenizer.json";
const CONFIG: &str = "config.json";
const META: &str = "meta.json";
const BASE_LAYERS: &str = "base-layers.safetensors";
const NEIGHBOURS: &str = "neighbours.safetensors";

/// A model file that could not be read or used, by name.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {problem}", file.display())]
pub struct ModelError {
    /// The file at fault; `safety encoder` or `safety model` when the problem is not one
    /// file's.
    pub file: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

impl ModelError {
    fn new(origin: &Path, name: &str, problem: impl std::fmt::Display) -> ModelError {
        ModelError {
            file: origin.join(name),
            problem: problem.to_string(),
        }
    }
}

impl ModelFiles {
    /// The model this build of trustguide carries.
    ///
    /// A release build embeds `models/safety/`. A development build reads that folder at run
    /// time (or the folder named by `TRUSTGUIDE_SAFETY_MODEL`, to try a retrained model).
    pub fn builtin() -> Result<ModelFiles, ModelError> {
        #[cfg(not(debug_assertions))]
        {
            Ok(ModelFiles {
                origin: PathBuf::from("built-in safety model (models/safety)"),
                weights: Cow::Borrowed(include_bytes!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/models/safety/model.safetensors"
                ))),
                tokenizer: Cow::Borrowed(include_bytes!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/models/safety/tokenizer.json"
                ))),
                config: Cow::Borrowed(include_bytes!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/models/safety/config.json"
                ))),
                meta: Cow::Borrowed(include_bytes!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/models/safety/meta.json"
                ))),
                base_layers: Some(Cow::Borrowed(include_bytes!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/models/safety/base-layers.safetensors"
                )))),
                neighbours: Some(Cow::Borrowed(include_bytes!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/models/safety/neighbours.safetensors"
                )))),
            })
        }
        #[cfg(debug_assertions)]
        {
            let dir = std::env::var_os("TRUSTGUIDE_SAFETY_MODEL")
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("models/safety"));
            ModelFiles::from_dir(&dir)
        }
    }

    /// The files of a model in `dir`: four, and the vote's two when `meta.json` asks for a
    /// vote (a missing one is then an error that names it, when the encoder is loaded).
    pub fn from_dir(dir: &Path) -> Result<ModelFiles, ModelError> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map(Cow::Owned)
                .map_err(|e| ModelError::new(dir, name, e))
        };
        let optional = |name: &str| match std::fs::read(dir.join(name)) {
            Ok(bytes) => Ok(Some(Cow::Owned(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ModelError::new(dir, name, e)),
        };
        Ok(ModelFiles {
            origin: dir.to_owned(),
            weights: read(WEIGHTS)?,
            tokenizer: read(TOKENIZER)?,
            config: read(CONFIG)?,
            meta: read(META)?,
            base_layers: optional(BASE_LAYERS)?,
            neighbours: optional(NEIGHBOURS)?,
        })
    }
}

/// What training wrote beside the weights: the labels in output order (`ok` first), the
/// pause threshold chosen on the validation set, and how many tokens a part may have.
#[derive(Debug, Clone, Deserialize)]
pub struct Meta {
    pub labels: Vec<String>,
    pub threshold: f32,
    pub max_tokens: usize,
    /// The vote of the nearest training lines, if this model has one; `threshold` is then
    /// the threshold of the combined risk.
    #[serde(default)]
    pub vote: Option<VoteMeta>,
}

/// The fine-tuned encoder with its classification layer.
pub struct Encoder {
    bert: BertModel,
    classifier: Linear,
    tokenizer: Tokenizer,
    /// The tokens that open and close each row the encoders read.
    cls: u32,
    sep: u32,
    /// What training wrote beside the weights: the labels, the threshold and the window size.
    pub meta: Meta,
    vote: Option<Vote>,
    device: Device,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("meta", &self.meta).finish()
    }
}

impl Encoder {
    /// Builds the encoder from `files`, to run on the CPU; a file that cannot be parsed or
    /// used is an error that names it.
    pub fn load(files: &ModelFiles) -> Result<Encoder, ModelError> {
        let origin = &files.origin;
        let meta: Meta =
            serde_json::from_slice(&files.meta).map_err(|e| ModelError::new(origin, META, e))?;
        if meta.labels.first().map(String::as_str) != Some("ok") || meta.max_tokens < 8 {
            return Err(ModelError::new(
                origin,
                META,
                "the first label must be `ok` and max_tokens at least 8",
            ));
        }
        let config: Config = serde_json::from_slice(&files.config)
            .map_err(|e| ModelError::new(origin, CONFIG, e))?;
        let mut tokenizer = Tokenizer::from_bytes(&files.tokenizer)
            .map_err(|e| ModelError::new(origin, TOKENIZER, e))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| ModelError::new(origin, TOKENIZER, e))?;
        let (Some(cls), Some(sep)) = (
            tokenizer.token_to_id("[CLS]"),
            tokenizer.token_to_id("[SEP]"),
        ) else {
            return Err(ModelError::new(
                origin,
                TOKENIZER,
                "the tokenizer has no [CLS] or [SEP] token",
            ));
        };

        let device = Device::Cpu;
        let bad_weights = |e: candle_core::Error| ModelError::new(origin, WEIGHTS, e);
        // Read once, as f32: the vote's base encoder shares these tensors.
        let tensors: HashMap<String, Tensor> =
            candle_core::safetensors::load_buffer(&files.weights, &device)
                .and_then(|map| {
                    map.into_iter()
                        .map(|(k, t)| Ok((k, t.to_dtype(DType::F32)?)))
                        .collect()
                })
                .map_err(bad_weights)?;
        let vote = match (&meta.vote, &files.base_layers, &files.neighbours) {
            (None, ..) => None,
            (Some(vote), Some(layers), Some(index)) => Some(
                Vote::load(
                    &tensors,
                    layers,
                    index,
                    &config,
                    vote.clone(),
                    meta.max_tokens,
                )
                .map_err(|(file, problem)| ModelError::new(origin, file, problem))?,
            ),
            (Some(_), layers, _) => {
                let missing = if layers.is_none() {
                    BASE_LAYERS
                } else {
                    NEIGHBOURS
                };
                return Err(ModelError::new(
                    origin,
                    missing,
                    "missing (meta.json asks for a vote of the nearest training lines)",
                ));
            }
        };
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let bert = BertModel::load(vb.clone(), &config).map_err(bad_weights)?;
        let classifier =
            candle_nn::linear(config.hidden_size, meta.labels.len(), vb.pp("classifier"))
                .map_err(bad_weights)?;
        Ok(Encoder {
            bert,
            classifier,
            tokenizer,
            cls,
            sep,
            meta,
            vote,
            device,
        })
    }

    /// The probabilities of each label (in `Meta::labels` order) for each judged span of
    /// `text`: every window of it as a whole, then the span from each clause start (a byte
    /// offset, see `clauses::starts`) to the end of each window it falls in.
    ///
    /// The answer is read once. An answer longer than a window (`max_tokens`, the length
    /// the model was trained on) is read in windows that overlap by a quarter, at most
    /// `MAX_WINDOWS` of them spread over the answer; the phrase patterns read every word
    /// of any answer. A span's judgement is the mean of its tokens' vectors, as in training.
    pub fn judge(&self, text: &str, clause_starts: &[usize]) -> Result<Vec<Span>, ModelError> {
        let fail = |e: &dyn std::fmt::Display| ModelError {
            file: PathBuf::from("safety encoder"),
            problem: e.to_string(),
        };
        let encoding = self.tokenizer.encode(text, false).map_err(|e| fail(&e))?;
        let ids = encoding.get_ids();
        let offsets = encoding.get_offsets();
        let (cls, sep) = (self.cls, self.sep);
        let body = self.meta.max_tokens - 2;
        let windows = windows(ids.len(), body);
        let width = windows.iter().map(|w| w.len()).max().unwrap_or(0) + 2;

        let mut row_ids = Vec::with_capacity(windows.len() * width);
        let mut mask = Vec::with_capacity(windows.len() * width);
        // Each span: its window, and its first and last token in the window's row.
        let mut spans: Vec<(usize, usize, usize, bool)> = Vec::new();
        for (row, window) in windows.iter().enumerate() {
            row_ids.push(cls);
            row_ids.extend_from_slice(&ids[window.clone()]);
            row_ids.push(sep);
            let used = window.len() + 2;
            row_ids.extend(std::iter::repeat_n(0u32, width - used));
            mask.extend(std::iter::repeat_n(1u32, used));
            mask.extend(std::iter::repeat_n(0u32, width - used));
            spans.push((row, 0, used, true));
            for &start in clause_starts {
                // The clause's first token in this window, if it starts inside it.
                let first = window
                    .clone()
                    .find(|&t| offsets[t].0 >= start)
                    .filter(|&t| t > window.start);
                if let Some(t) = first {
                    spans.push((row, t - window.start + 1, used, false));
                }
            }
        }
        // Each span's pooling weights over all rows' tokens: 1/len on its tokens.
        let mut pool = vec![0f32; spans.len() * windows.len() * width];
        for (i, &(row, first, end, _)) in spans.iter().enumerate() {
            let weight = 1.0 / (end - first) as f32;
            let at = i * windows.len() * width + row * width;
            for w in &mut pool[at + first..at + end] {
                *w = weight;
            }
        }
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let rows = Rows {
                ids: row_ids,
                mask,
                rows: windows.len(),
                width,
                pool,
                spans: spans.len(),
            };
            let pooled = rows.pooled(&self.bert, &self.device)?;
            let logits = self.classifier.forward(&pooled)?;
            candle_nn::ops::softmax_last_dim(&logits)?.to_vec2::<f32>()
        };
        let probabilities = run().map_err(|e| fail(&e))?;
        Ok(spans
            .iter()
            .zip(probabilities)
            .map(|(&(.., whole), probabilities)| Span {
                whole,
                probabilities,
            })
            .collect())
    }
}

impl Encoder {
    /// Whether this model has a vote of the nearest training lines.
    pub fn has_vote(&self) -> bool {
        self.vote.is_some()
    }

    /// The vote of the nearest training lines on `text` and on each span of it from a clause
    /// start (`starts`, byte offsets) to the end, each read alone: the most worrying share
    /// of risk lines. `None` when this model has no vote, or the answer has more clause
    /// starts than the vote reads ([`VoteMeta::max_spans`]).
    pub fn vote(&self, text: &str, starts: &[usize]) -> Result<Option<f32>, ModelError> {
        let Some(vote) = &self.vote else {
            return Ok(None);
        };
        if starts.len() > vote.meta().max_spans {
            return Ok(None);
        }
        let texts: Vec<&str> = std::iter::once(text)
            .chain(starts.iter().filter_map(|&at| text.get(at..)))
            .collect();
        vote.vote(&self.tokenizer, self.cls, self.sep, &texts)
            .map(Some)
            .map_err(|e| ModelError {
                file: PathBuf::from("safety encoder"),
                problem: e.to_string(),
            })
    }
}

/// One judged span of an answer.
#[derive(Debug, Clone)]
pub struct Span {
    /// A whole window (the whole answer, if it fits in one), not a clause.
    pub whole: bool,
    /// The probability of each label, in [`Meta::labels`] order.
    pub probabilities: Vec<f32>,
}

/// At most this many windows of a long answer are read: an answer of up to about 2,300
/// tokens is read in full, a longer one in windows spread evenly over it.
pub const MAX_WINDOWS: usize = 24;

/// The windows (token ranges) in which `len` tokens are read, `body` tokens each: one for a
/// text that fits, otherwise windows overlapping by a quarter, the last one ending at the end,
/// and at most [`MAX_WINDOWS`] of them spread evenly over the text.
// A list of one window is meant: not the numbers 0 to len.
#[allow(clippy::single_range_in_vec_init)]
fn windows(len: usize, body: usize) -> Vec<std::ops::Range<usize>> {
    if len <= body {
        return vec![0..len];
    }
    // A quarter of each window is read again in the next: every clause is read with some
    // words after it, and a long answer costs a third less than with windows overlapping by
    // half.
    let stride = (body * 3 / 4).max(1);
    let last = len - body;
    let mut starts: Vec<usize> = (0..last).step_by(stride).collect();
    starts.push(last);
    if starts.len() > MAX_WINDOWS {
        let step = (starts.len() - 1) as f64 / (MAX_WINDOWS - 1) as f64;
        starts = (0..MAX_WINDOWS)
            .filter_map(|k| starts.get((k as f64 * step).round() as usize).copied())
            .collect();
        starts.dedup();
    }
    starts.into_iter().map(|s| s..s + body).collect()
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::windows;

    #[test]
    fn a_short_text_is_one_window() {
        assert_eq!(windows(0, 126), [0..0]);
        assert_eq!(windows(126, 126), [0..126]);
    }

    #[test]
    fn a_long_text_is_read_in_windows_that_overlap_and_cover_it() {
        let w = windows(300, 126);
        assert_eq!(w, [0..126, 94..220, 174..300]);
        let huge = windows(1_000_000, 126);
        assert_eq!(huge.len(), super::MAX_WINDOWS);
        assert_eq!(huge.first(), Some(&(0..126)));
        assert_eq!(huge.last(), Some(&(1_000_000 - 126..1_000_000)));
    }
}
