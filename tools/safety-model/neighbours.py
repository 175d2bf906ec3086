#!/usr/bin/env python3
"""Builds the screen's second reader: the vote of the nearest training lines (docs/safety.md,
"Tenth round").

The fine-tuned screen lets one word decide at near certainty, and its runs share those
mistakes (the ninth round). The *base* model's sentence embeddings (all-MiniLM-L6-v2 as
pretrained, mean-pooled and normalised) were never trained on the labels, so their mistakes
are not the screen's: the Rust screen finds the 25 training lines nearest to an answer (and
to each span of it from a clause start) in that space and lets them vote
(src/safety/vote.rs). This script writes the two files that needs, into models/safety/:

- `base-layers.safetensors`: the base model's encoder layers above the ones training kept
  frozen, as f16. The embeddings and the frozen layers are the fine-tuned model's own
  (training never changed them; this script checks that they are equal), so they ship once.
- `neighbours.safetensors`: each training line's base embedding (`vectors`, f16, one row a
  line, computed with the f16 weights the Rust screen runs) and whether it is a risk line
  (`risk`, u8), with the training data's digest in the metadata (train.py's, so it must
  match the committed model's meta.json).

    .venv/bin/python tools/safety-model/neighbours.py [--out models/safety]

About 3 minutes on 2 cores. The tensors written depend only on the base model and the training
files (the same lines, in the same order, as train.py reads them); the order of the
metadata in the files' headers can differ from run to run.
"""

import argparse
import importlib.util
import json
import os

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("train", os.path.join(HERE, "train.py"))
train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train)


def embed(tok, model, texts, max_tokens=128):
    """Mean-pooled, normalised embeddings (sentence-transformers' recipe), one row a text;
    read in batches of like length."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), model.config.hidden_size), np.float32)
    with torch.no_grad():
        for s in range(0, len(order), 128):
            idx = order[s:s + 128]
            enc = tok([texts[i] for i in idx], padding=True, truncation=True,
                      max_length=max_tokens, return_tensors="pt")
            h = model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            out[idx] = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1).numpy()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(train.ROOT, "models", "safety"))
    args = ap.parse_args()
    torch.set_num_threads(2)

    meta = json.load(open(os.path.join(args.out, "meta.json")))
    frozen = int(meta["frozen_layers"])
    tuned = load_file(os.path.join(args.out, "model.safetensors"))

    base = train.base_dir()
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModel.from_pretrained(base).eval()
    # The Rust screen runs the f16 weights it ships: compute the index with the same.
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    state = {k: v.half().contiguous() for k, v in model.state_dict().items()
             if not k.endswith("position_ids")}

    shared = [k for k in state if k.startswith("embeddings.")
              or any(k.startswith(f"encoder.layer.{i}.") for i in range(frozen))]
    for k in shared:
        if not torch.equal(state[k], tuned[k]):
            raise SystemExit(f"{k}: the fine-tuned model's frozen weights differ from the base's")
    layers = {k: v for k, v in state.items() if k not in shared and k.startswith("encoder.")}
    save_file(layers, os.path.join(args.out, "base-layers.safetensors"),
              metadata={"base": meta["base"], "base_sha256": train.BASE_SHA256,
                        "layers_from": str(frozen)})

    lines = []
    for f in train.training_files():
        lines += train.read_tsv(f)
    lines = list(dict.fromkeys(lines))
    digest = train.data_digest(train.training_files())
    if digest != meta["training_data_sha256"]:
        raise SystemExit("the training files are not the ones the committed model was trained on")

    vectors = embed(tok, model, [t for _, t in lines], meta["max_tokens"])
    risk = np.array([label != 0 for label, _ in lines], np.uint8)
    save_file({"vectors": torch.from_numpy(vectors).half(), "risk": torch.from_numpy(risk)},
              os.path.join(args.out, "neighbours.safetensors"),
              metadata={"lines": str(len(lines)), "risk_lines": str(int(risk.sum())),
                        "training_data_sha256": digest, "base_sha256": train.BASE_SHA256})
    # How the Rust screen takes the vote (src/safety/vote.rs). meta.json's threshold is then
    # the combined risk's, chosen on the validation sets (docs/safety.md, tenth round).
    meta["vote"] = {"k": 25, "temperature": 0.05, "max_spans": 16}
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"{len(lines)} lines ({int(risk.sum())} risk), {len(layers)} base tensors, "
          f"lines digest {digest}")


if __name__ == "__main__":
    main()
