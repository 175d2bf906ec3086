#!/usr/bin/env python3
"""Score one screen, once, on blind sets, at the screen's own threshold.

    cargo build
    TRUSTGUIDE_SAFETY_MODEL=runs/o python3 tools/safety-model/score.py \
        target/debug/trustguide runs/o-blind.jsonl unscored/set39-hard.tsv unscored/set40-everyday.tsv

A pause is exactly what the screen decides: a non-empty `categories` from
`trustguide safety scan` (the scan pauses when `Profile::judge` does), so no threshold or
rule is re-implemented here. Each file (under tests/fixtures/safety; first column the label,
last the answer) prints its recall and false pauses; every line's verdict goes to OUT.jsonl,
to read the misses and false pauses after scoring. Without TRUSTGUIDE_SAFETY_MODEL the
binary's own committed model is scored.

This is the scoring of a blind set: run it once per set and screen, and log the figures in
docs/safety.md's log before anything else is done with the set.
"""

import json
import os
import subprocess
import sys

from evaluate import FIXTURES, RISK


def read(name):
    rows = []
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip() and not line.startswith("#"):
                parts = line.split("\t")
                rows.append((parts[0], parts[-1]))
    return rows


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    binary, out = sys.argv[1], sys.argv[2]
    with open(out, "w", encoding="utf-8") as dump:
        for name in sys.argv[3:]:
            rows = read(name)
            text = "".join(t + "\n" for _, t in rows)
            scan = subprocess.run(
                [binary, "safety", "scan"], input=text, capture_output=True, text=True, check=True
            )
            judged = [json.loads(l) for l in scan.stdout.splitlines()]
            if len(judged) != len(rows):
                sys.exit(f"{name}: {len(rows)} lines sent, {len(judged)} verdicts back")
            risk = sum(label in RISK for label, _ in rows)
            safe = len(rows) - risk
            caught = sum(1 for (l, _), j in zip(rows, judged) if l in RISK and j["categories"])
            false = sum(1 for (l, _), j in zip(rows, judged) if l not in RISK and j["categories"])
            for (label, _), verdict in zip(rows, judged):
                dump.write(json.dumps({"set": name, "label": label, **verdict}) + "\n")
            print(
                f"{name}: recall {caught / max(1, risk):.3f} ({caught} of {risk}), "
                f"false pauses {false / max(1, safe):.3f} ({false} of {safe})",
                flush=True,
            )


if __name__ == "__main__":
    main()
