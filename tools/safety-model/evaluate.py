#!/usr/bin/env python3
"""Figures of a safety model with the Rust screen, at several thresholds.

    cargo build --release
    TRUSTGUIDE_SAFETY_MODEL=runs/r1 python3 tools/safety-model/evaluate.py \
        target/debug/trustguide unseen-risk.tsv+unseen-safe.tsv spent/hard-risk.tsv+spent/hard-safe.tsv

Each argument after the binary is one set: fixture files under tests/fixtures/safety joined by
`+`. For each set and threshold it prints recall and false pauses, deciding as
`Profile::judge` does from what `trustguide safety scan` reports: a pattern nothing may
overrule pauses (the scan then gives no risk); otherwise the answer pauses when the
encoder's risk reaches the threshold, or when a pattern or hint matched and the risk reaches
PATTERN_DOUBT (half) of it. A development build reads the model named by TRUSTGUIDE_SAFETY_MODEL.

Use it on validation sets only: a blind set is scored once, with score.py, and logged in
docs/safety.md.
"""

import json
import os
import subprocess
import sys

RISK = {"self_harm", "violence", "fear_for_safety", "emergency", "child_safety"}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "safety")
THRESHOLDS = [round(0.3 + 0.05 * i, 2) for i in range(13)]
# Keep in step with PATTERN_DOUBT in src/safety/mod.rs.
DOUBT = 0.5


def rows(files):
    out = []
    for name in files.split("+"):
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line.strip() and not line.startswith("#"):
                    parts = line.split("\t")
                    out.append((parts[0] in RISK, parts[-1]))
    return out


def pauses(judged, th, risk=None):
    """Whether `Profile::judge` pauses: a pattern nothing may overrule (the scan then gives
    no risk) pauses; otherwise the risk (the scan's, or `risk` when given) must reach the
    threshold, or a fifth of it where a pattern or hint matched."""
    r = judged.get("risk") if risk is None else risk
    if judged.get("risk") is None:
        return bool(judged["categories"])
    return r >= th or (bool(judged["patterns"]) and r >= th * DOUBT)


def main():
    binary, sets = sys.argv[1], sys.argv[2:]
    for s in sets:
        data = rows(s)
        text = "".join(t.replace("\n", " ") + "\n" for _, t in data)
        scan = subprocess.run([binary, "safety", "scan"], input=text, capture_output=True,
                              text=True, check=True)
        judged = [json.loads(l) for l in scan.stdout.splitlines()]
        assert len(judged) == len(data), (len(judged), len(data))
        n_risk = sum(1 for r, _ in data if r)
        n_safe = len(data) - n_risk
        for th in THRESHOLDS:
            tp = fp = 0
            for (is_risk, _), j in zip(data, judged):
                pause = pauses(j, th)
                tp += is_risk and pause
                fp += (not is_risk) and pause
            print(f"{s} threshold {th}: recall {tp / max(1, n_risk):.3f} "
                  f"false pauses {fp / max(1, n_safe):.3f} (missed {n_risk - tp} of {n_risk}, "
                  f"paused {fp} of {n_safe})", flush=True)


if __name__ == "__main__":
    main()
