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
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::{Linear, Module, VarBuilder};
use candle_transformers::models::bert::{BertModel, Config};
use serde::Deserialize;
use tokenizers::Tokenizer;

/// The model's files, as bytes, and where they came from (for messages).
pub struct ModelFiles {
    /// The folder the files were read from, or `built in`.
    pub origin: PathBuf,
    weights: Cow<'static, [u8]>,
    tokenizer: Cow<'static, [u8]>,
    config: Cow<'static, [u8]>,
    meta: Cow<'static, [u8]>,
}

const WEIGHTS: &str = "model.safetensors";
const TOKENIZER: &str = "tokenizer.json";
const CONFIG: &str = "config.json";
const META: &str = "meta.json";

/// A model file that could not be read or used, by name.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {problem}", file.display())]
pub struct ModelError {
    pub file: PathBuf,
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

    /// The four files of a model in `dir`.
    pub fn from_dir(dir: &Path) -> Result<ModelFiles, ModelError> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map(Cow::Owned)
                .map_err(|e| ModelError::new(dir, name, e))
        };
        Ok(ModelFiles {
            origin: dir.to_owned(),
            weights: read(WEIGHTS)?,
            tokenizer: read(TOKENIZER)?,
            config: read(CONFIG)?,
            meta: read(META)?,
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
}

/// The fine-tuned encoder with its classification layer.
pub struct Encoder {
    bert: BertModel,
    classifier: Linear,
    tokenizer: Tokenizer,
    pub meta: Meta,
    device: Device,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("meta", &self.meta).finish()
    }
}

impl Encoder {
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

        let device = Device::Cpu;
        let bad_weights = |e: candle_core::Error| ModelError::new(origin, WEIGHTS, e);
        let vb = VarBuilder::from_slice_safetensors(&files.weights, DType::F32, &device)
            .map_err(bad_weights)?;
        let bert = BertModel::load(vb.clone(), &config).map_err(bad_weights)?;
        let classifier =
            candle_nn::linear(config.hidden_size, meta.labels.len(), vb.pp("classifier"))
                .map_err(bad_weights)?;
        Ok(Encoder {
            bert,
            classifier,
            tokenizer,
            meta,
            device,
        })
    }

    /// For each text, the probability of each label (in [`Meta::labels`] order). The texts
    /// are judged together in one batch; each is cut to `max_tokens` from its start.
    pub fn probabilities(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let fail = |e: &dyn std::fmt::Display| ModelError {
            file: PathBuf::from("safety encoder"),
            problem: e.to_string(),
        };
        // Only the start of each text is read (`max_tokens`), so the tokenizer is handed no
        // more than that could need: a token is rarely longer than a dozen characters.
        let budget = self.meta.max_tokens * 12;
        let heads: Vec<&str> = texts
            .iter()
            .map(|t| match t.char_indices().nth(budget) {
                Some((end, _)) => &t[..end],
                None => t,
            })
            .collect();
        let encodings = self
            .tokenizer
            .encode_batch(heads, true)
            .map_err(|e| fail(&e))?;
        let max = self.meta.max_tokens;
        let rows: Vec<Vec<u32>> = encodings
            .iter()
            .map(|e| {
                let ids = e.get_ids();
                if ids.len() <= max {
                    ids.to_vec()
                } else {
                    // Keep the start and the closing [SEP] the model was trained with.
                    let mut cut = ids[..max - 1].to_vec();
                    cut.extend(ids.last());
                    cut
                }
            })
            .collect();
        let width = rows.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut ids = Vec::with_capacity(rows.len() * width);
        let mut mask = Vec::with_capacity(rows.len() * width);
        for row in &rows {
            ids.extend(row.iter().copied());
            ids.extend(std::iter::repeat_n(0u32, width - row.len()));
            mask.extend(std::iter::repeat_n(1u32, row.len()));
            mask.extend(std::iter::repeat_n(0u32, width - row.len()));
        }
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let shape = (rows.len(), width);
            let ids = Tensor::from_vec(ids, shape, &self.device)?;
            let mask = Tensor::from_vec(mask, shape, &self.device)?;
            let types = ids.zeros_like()?;
            let hidden = self.bert.forward(&ids, &types, Some(&mask))?;
            // The mean of the tokens' vectors, padding left out: the pooling the base
            // model was trained with, and the one the classifier was fitted on.
            let weights = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&weights)?.sum(1)?;
            let pooled = summed.broadcast_div(&weights.sum(1)?)?;
            let logits = self.classifier.forward(&pooled)?;
            candle_nn::ops::softmax_last_dim(&logits)?.to_vec2::<f32>()
        };
        run().map_err(|e| fail(&e))
    }
}
