//! The screen's second reader: a vote of the training lines nearest to an answer, found with
//! the *base* sentence encoder (all-MiniLM-L6-v2 as pretrained, never trained on the labels).
//!
//! Why: the fine-tuned encoder lets one word decide at near certainty ("disclosure prep is
//! hard but ive written down the main points for thursday" is 0.996, and 0.009 without
//! "written"), and every run of it, their averages and their weight soups make the same
//! mistakes (docs/safety.md, ninth round). The base encoder's sense of which sentences are
//! alike was never shaped by the labels, so its mistakes are not the fine-tuned one's. The
//! vote asks: of the 25 training lines that read most like this answer, how many are risk
//! lines (each weighed by how alike it is)? [`super::Profile::judge`] takes the geometric
//! mean of that share and the fine-tuned encoder's risk, so an answer pauses only when both
//! readers lean towards risk, and either can hold back the other's lone certainty.
//!
//! The whole answer votes, and so does each span of it from a clause start to the end, each
//! read alone; the answer takes its most worrying vote, so an ordinary start cannot outvote
//! a risk ("not really. I wont be around by then"). Read in context instead, each token
//! would still carry the ordinary start (measured: it loses that line).
//!
//! The base encoder shares its embeddings and lowest layer with the fine-tuned one (training
//! kept them frozen), so only the layers above ship again (`base-layers.safetensors`), and
//! the two encoders hold the shared weights once. The training lines' base embeddings ship
//! as f16 (`neighbours.safetensors`), built by `tools/safety-model/neighbours.py`.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use serde::Deserialize;
use tokenizers::Tokenizer;

use super::rows::Rows;

/// How the vote is taken (from `meta.json`'s `vote`, written by neighbours.py).
#[derive(Debug, Clone, Deserialize)]
pub struct VoteMeta {
    /// How many nearest training lines vote.
    pub k: usize,
    /// How sharply nearer lines weigh more: each vote counts exp(similarity / temperature).
    pub temperature: f32,
    /// An answer with more clause starts than this is judged by the fine-tuned encoder
    /// alone (no training or validation line has more than 13; reading each span of a long
    /// diary alone would take seconds).
    pub max_spans: usize,
}

/// The base encoder and the training lines it votes with.
pub struct Vote {
    bert: BertModel,
    /// The training lines' normalised base embeddings, one column a line (f32 in memory,
    /// laid out for the product with an answer's rows).
    vectors: Tensor,
    /// Whether each training line is a risk line.
    risk: Vec<bool>,
    meta: VoteMeta,
    max_tokens: usize,
    device: Device,
}

impl Vote {
    /// Builds the base encoder from the fine-tuned encoder's tensors (`tuned`, f32) with the
    /// layers in `base_layers` in place of theirs, and reads the index. Errors are the file's
    /// problem in words; the caller names the file.
    pub fn load(
        tuned: &HashMap<String, Tensor>,
        base_layers: &[u8],
        neighbours: &[u8],
        config: &Config,
        meta: VoteMeta,
        max_tokens: usize,
    ) -> Result<Vote, (&'static str, String)> {
        const LAYERS: &str = "base-layers.safetensors";
        const INDEX: &str = "neighbours.safetensors";
        // NaN and zero are ruled out too: each vote is weighed by exp(similarity / temperature).
        if meta.temperature.is_nan() || meta.temperature <= 0.0 || meta.k == 0 {
            return Err((
                "meta.json",
                "the vote needs k of at least 1 and a temperature above 0".into(),
            ));
        }
        let device = Device::Cpu;
        let layers = candle_core::safetensors::load_buffer(base_layers, &device)
            .map_err(|e| (LAYERS, e.to_string()))?;
        if layers.is_empty() || !layers.keys().all(|k| tuned.contains_key(k)) {
            return Err((
                LAYERS,
                "its tensors are not layers of the safety encoder".into(),
            ));
        }
        let mut tensors: HashMap<String, Tensor> = tuned
            .iter()
            .filter(|(k, _)| !k.starts_with("classifier"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (name, t) in layers {
            let t = t
                .to_dtype(DType::F32)
                .map_err(|e| (LAYERS, e.to_string()))?;
            tensors.insert(name, t);
        }
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let bert = BertModel::load(vb, config).map_err(|e| (LAYERS, e.to_string()))?;

        let mut index = candle_core::safetensors::load_buffer(neighbours, &device)
            .map_err(|e| (INDEX, e.to_string()))?;
        let (Some(vectors), Some(risk)) = (index.remove("vectors"), index.remove("risk")) else {
            return Err((INDEX, "it must hold `vectors` and `risk`".into()));
        };
        let bad = |e: candle_core::Error| (INDEX, e.to_string());
        let vectors = vectors.to_dtype(DType::F32).map_err(bad)?;
        let risk: Vec<bool> = risk
            .to_dtype(DType::U8)
            .and_then(|r| r.to_vec1::<u8>())
            .map_err(bad)?
            .into_iter()
            .map(|r| r != 0)
            .collect();
        let (lines, width) = vectors.dims2().map_err(bad)?;
        if lines != risk.len() || width != config.hidden_size || lines < meta.k {
            return Err((
                INDEX,
                format!("{lines} vectors of {width} values and {} labels do not fit the encoder or k = {}", risk.len(), meta.k),
            ));
        }
        let vectors = vectors.t().and_then(|v| v.contiguous()).map_err(bad)?;
        Ok(Vote {
            bert,
            vectors,
            risk,
            meta,
            max_tokens,
            device,
        })
    }

    /// How the vote is taken.
    pub fn meta(&self) -> &VoteMeta {
        &self.meta
    }

    /// The most worrying vote of `texts` (the answer and its spans), each read alone: the
    /// weighed share of risk lines among each text's k nearest training lines.
    pub fn vote(
        &self,
        tokenizer: &Tokenizer,
        cls: u32,
        sep: u32,
        texts: &[&str],
    ) -> candle_core::Result<f32> {
        let body = self.max_tokens - 2;
        let mut rows: Vec<Vec<u32>> = Vec::with_capacity(texts.len());
        for text in texts {
            let encoding = tokenizer
                .encode(*text, false)
                .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
            let ids = encoding.get_ids();
            let mut row = Vec::with_capacity(ids.len().min(body) + 2);
            row.push(cls);
            row.extend_from_slice(&ids[..ids.len().min(body)]);
            row.push(sep);
            rows.push(row);
        }
        // Rows of like length together, so that little is padded. (A pass for each row,
        // with no padding at all, measured a third slower: the encoder works faster on more
        // rows at once.)
        rows.sort_by_key(Vec::len);
        let mut best = 0f32;
        for batch in rows.chunks(8) {
            let width = batch.iter().map(Vec::len).max().unwrap_or(0);
            let mut ids = Vec::with_capacity(batch.len() * width);
            let mut mask = Vec::with_capacity(batch.len() * width);
            let mut pool = vec![0f32; batch.len() * batch.len() * width];
            for (r, row) in batch.iter().enumerate() {
                ids.extend_from_slice(row);
                ids.extend(std::iter::repeat_n(0u32, width - row.len()));
                mask.extend(std::iter::repeat_n(1u32, row.len()));
                mask.extend(std::iter::repeat_n(0u32, width - row.len()));
                let at = r * batch.len() * width + r * width;
                for w in &mut pool[at..at + row.len()] {
                    *w = 1.0 / row.len() as f32;
                }
            }
            let rows = Rows {
                ids,
                mask,
                rows: batch.len(),
                width,
                pool,
                spans: batch.len(),
            };
            let pooled = rows.pooled(&self.bert, &self.device)?;
            let norm = pooled.sqr()?.sum_keepdim(1)?.sqrt()?;
            let pooled = pooled.broadcast_div(&norm)?;
            let similarity = pooled.matmul(&self.vectors)?.to_vec2::<f32>()?;
            for row in &similarity {
                best = best.max(share(row, &self.risk, self.meta.k, self.meta.temperature));
            }
        }
        Ok(best)
    }
}

/// The weighed share of risk lines among the `k` lines most like this one (`similarity` to
/// each training line, `risk` whether each is a risk line): each counts
/// exp(similarity / temperature), so a line that reads almost the same outweighs one that
/// only shares a topic.
fn share(similarity: &[f32], risk: &[bool], k: usize, temperature: f32) -> f32 {
    let k = k.min(similarity.len());
    if k == 0 {
        return 0.0;
    }
    // The k most similar lines, most similar first: one pass, a short sorted list.
    let mut nearest: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
    for (i, &s) in similarity.iter().enumerate() {
        if nearest.len() < k || nearest.last().is_some_and(|&(least, _)| s > least) {
            let at = nearest.partition_point(|&(t, _)| t >= s);
            nearest.insert(at, (s, i));
            nearest.truncate(k);
        }
    }
    // Weights relative to the nearest line's, so that exp cannot overflow.
    let top = nearest.first().map_or(0.0, |&(s, _)| s);
    let (mut at_risk, mut all) = (0f32, 0f32);
    for &(s, i) in &nearest {
        let w = ((s - top) / temperature).exp();
        all += w;
        if risk.get(i).copied().unwrap_or(false) {
            at_risk += w;
        }
    }
    if all > 0.0 {
        at_risk / all
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn only_the_nearest_lines_vote() {
        // Two near risk lines, many far ordinary ones: k = 2 hears only the risk lines.
        let similarity = [0.1, 0.9, 0.2, 0.95, 0.0, 0.3];
        let risk = [false, true, false, true, false, false];
        assert!((share(&similarity, &risk, 2, 0.05) - 1.0).abs() < 1e-6);
        // With k = 3 the ordinary line at 0.3 votes too, but weighs little at its distance.
        let v = share(&similarity, &risk, 3, 0.05);
        assert!(v > 0.99 && v < 1.0, "{v}");
    }

    #[test]
    fn nearer_lines_weigh_more() {
        let similarity = [0.80, 0.70];
        let risk = [false, true];
        let sharp = share(&similarity, &risk, 2, 0.05);
        let soft = share(&similarity, &risk, 2, 1.0);
        // exp(-0.1 / 0.05) / (1 + exp(-2)) = 0.119; with temperature 1 close to half.
        assert!((sharp - 0.1192).abs() < 1e-3, "{sharp}");
        assert!(soft > 0.45 && soft < 0.5, "{soft}");
        assert_eq!(share(&[], &[], 25, 0.05), 0.0);
    }
}
