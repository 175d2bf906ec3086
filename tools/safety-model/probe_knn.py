#!/usr/bin/env python3
"""The ninth round's measurement, kept as a cross-check of the screen the tenth round built
from it (src/safety/vote.rs, which gives the same validation figures): does a vote of the
nearest training lines, found with the *base* model's sentence embeddings (all-MiniLM-L6-v2
as pretrained, not fine-tuned), correct the fine-tuned screen's false pauses? It reads the
fine-tuned encoder's own risk (`screen_risk`, or `risk` from a screen without the vote).

The ninth round found that the fine-tuned model lets one word decide at near certainty
(docs/safety.md), and that runs of it, their averages and their weight soups all make the
same mistakes. The base model's embeddings were never trained on the labels, so their errors
are not the fine-tuned model's. This script combines the Rust screen's risk (from
`trustguide safety scan`, whichever model the binary screens with) with the share of risk
lines among the k nearest training lines, as a geometric mean, and prints recall and false
pauses on the validation sets at each threshold, with the lines the combination changes.

    cargo build
    .venv/bin/python tools/safety-model/probe_knn.py target/debug/trustguide [K] [TAU] [TH]
    # for comparison: the screen's own spans pooled from one pass (measured: about as few
    # false pauses, but a plain self-harm line after an ordinary start is lost again)
    .venv/bin/python tools/safety-model/probe_knn.py --in-context target/debug/trustguide

About 5 minutes on 2 cores (embedding 42,767 training lines). The whole answer votes, and
each span from a clause start on votes on its own; the answer takes the most worrying vote
(a whole-answer vote alone let an ordinary start outvote two plain self-harm lines).
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train = load("train")
evaluate = load("evaluate")
embed = load("neighbours").embed

VALIDATION = {"val-hard": "val-hard.tsv", "val-everyday": "val-everyday.tsv",
              "unseen+test2": "unseen-risk.tsv+unseen-safe.tsv+test2-risk.tsv+test2-safe.tsv"}


def in_context_spans(tok, model, texts):
    """The screen's own spans: for an answer of 20 words or more, from each later clause's
    first token to the end, pooled from one pass over the whole answer (src/safety/clauses.rs,
    src/safety/encoder.rs; answers here fit one 128-token window)."""
    owners, vectors = [], []
    with torch.no_grad():
        for i, text in enumerate(texts):
            if len(text.split()) < 20:
                continue
            starts = train.clause_starts(text)
            if not starts:
                continue
            enc = tok([text], truncation=True, max_length=128, return_tensors="pt",
                      return_offsets_mapping=True)
            offsets = enc.pop("offset_mapping")[0].tolist()
            h = model(**enc).last_hidden_state[0]
            for c in starts:
                first = next((t for t, (a, b) in enumerate(offsets) if b > 0 and a >= c), None)
                if first is not None:
                    owners.append(i)
                    vectors.append(torch.nn.functional.normalize(h[first:].mean(0), dim=0).numpy())
    return owners, np.stack(vectors)


def main():
    in_context = "--in-context" in sys.argv
    sys.argv = [a for a in sys.argv if a != "--in-context"]
    binary = sys.argv[1]
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    tau = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    show = float(sys.argv[4]) if len(sys.argv) > 4 else 0.40
    torch.set_num_threads(2)

    lines = []
    for f in train.training_files():
        lines += train.read_tsv(f)
    lines = list(dict.fromkeys(lines))

    val = [(name, is_risk, t) for name, files in VALIDATION.items()
           for is_risk, t in evaluate.rows(files)]
    scan = subprocess.run([binary, "safety", "scan"],
                          input="".join(t.replace("\n", " ") + "\n" for _, _, t in val),
                          capture_output=True, text=True, check=True).stdout.splitlines()
    judged = [json.loads(s) for s in scan]

    base = train.base_dir()
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModel.from_pretrained(base).eval()
    T = embed(tok, model, [t for _, t in lines])
    y = np.array([label != 0 for label, _ in lines])
    def votes(X):
        S = X @ T.T
        idx = np.argpartition(-S, k, axis=1)[:, :k]
        w = np.exp(np.take_along_axis(S, idx, 1) / tau)
        return (w * y[idx]).sum(1) / w.sum(1)

    # The whole answer votes, and so does each span from a clause start to the end (read
    # alone): the answer takes its most worrying vote, so an ordinary start cannot outvote
    # a risk ("not really. I wont be around by then, ...").
    vote = votes(embed(tok, model, [t for _, _, t in val]))
    if in_context:
        owners, vectors = in_context_spans(tok, model, [t for _, _, t in val])
    else:
        spans = [(i, t[c:]) for i, (_, _, t) in enumerate(val) for c in train.clause_starts(t)]
        owners, vectors = [i for i, _ in spans], embed(tok, model, [t for _, t in spans])
    for i, v in zip(owners, votes(vectors)):
        vote[i] = max(vote[i], v)

    screen = np.array([j.get("screen_risk", j.get("risk")) or 0.0 for j in judged])
    combined = np.sqrt(screen * vote)
    lab = np.array([r for _, r, _ in val])
    sets = np.array([n for n, _, _ in val])

    def pauses(risk, th):
        return np.array([evaluate.pauses(j, th, r) for j, r in zip(judged, risk)])

    for name, risk in [("screen", screen), ("screen x vote", combined)]:
        for th in [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]:
            p = pauses(risk, th)
            row = [f"{name:<14} {th:.2f}"]
            for s in [None] + list(VALIDATION):
                m = np.ones(len(val), bool) if s is None else sets == s
                npos, nneg = (lab & m).sum(), (~lab & m).sum()
                fp = (p & ~lab & m).sum()
                row.append(f"{s or 'all'} {(p & lab & m).sum() / npos:.3f}/{fp / nneg:.3f} ({fp})")
            print("  ".join(row))
    before, after = pauses(screen, float(json.load(open(os.path.join(
        train.ROOT, "models", "safety", "meta.json")))["threshold"])), pauses(combined, show)
    for (_, r, t), a, b, s, v in zip(val, before, after, screen, vote):
        if a != b:
            print(f"{'fixed' if r == b else 'BROKEN'}: screen {s:.3f} vote {v:.3f}  {t[:110]}")


if __name__ == "__main__":
    main()
