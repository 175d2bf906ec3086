//! Running a BERT encoder over padded rows of tokens and pooling spans of them, shared by the
//! fine-tuned encoder (its clause spans, `encoder.rs`) and the vote's base encoder (each
//! row whole, `vote.rs`), so that both read text the same way.

use candle_core::{Device, Tensor};
use candle_transformers::models::bert::BertModel;

/// Rows of token ids, padded to one width, with their attention mask, and the pooling
/// weights of each span over all rows' tokens (one row of `pool` per span).
pub struct Rows {
    pub ids: Vec<u32>,
    pub mask: Vec<u32>,
    pub rows: usize,
    pub width: usize,
    pub pool: Vec<f32>,
    pub spans: usize,
}

impl Rows {
    /// The pooled vector of each span (one row per span): its tokens' final vectors weighed
    /// by `pool`.
    pub fn pooled(self, bert: &BertModel, device: &Device) -> candle_core::Result<Tensor> {
        let shape = (self.rows, self.width);
        let ids = Tensor::from_vec(self.ids, shape, device)?;
        let mask = Tensor::from_vec(self.mask, shape, device)?;
        let types = ids.zeros_like()?;
        let hidden = bert.forward(&ids, &types, Some(&mask))?;
        let hidden = hidden.reshape((self.rows * self.width, ()))?;
        let pool = Tensor::from_vec(self.pool, (self.spans, self.rows * self.width), device)?;
        pool.matmul(&hidden)
    }
}
