#!/usr/bin/env python3
"""Average the weights of several fine-tuned runs of train.py (a "model soup": Wortsman et
al., 2022). Runs that start from the same base and differ only in data order and a few lines
land in one basin; their average is steadier than any one of them on wording none has seen.

    .venv/bin/python tools/safety-model/soup.py OUT RUN_DIR RUN_DIR [...]

Each RUN_DIR is a folder train.py wrote; OUT gets the averaged model.safetensors and the
first run's other files, with meta.json listing the runs.
"""
import json
import os
import shutil
import sys

import torch
from safetensors.torch import load_file, save_file


def main():
    out, runs = sys.argv[1], sys.argv[2:]
    states = [load_file(os.path.join(r, "model.safetensors")) for r in runs]
    keys = states[0].keys()
    soup = {k: (sum(s[k].float() for s in states) / len(states)).to(torch.float16).contiguous()
            for k in keys}
    os.makedirs(out, exist_ok=True)
    save_file(soup, os.path.join(out, "model.safetensors"))
    for name in ["tokenizer.json", "config.json"]:
        shutil.copy(os.path.join(runs[0], name), os.path.join(out, name))
    metas = [json.load(open(os.path.join(r, "meta.json"), encoding="utf-8")) for r in runs]
    meta = dict(metas[0])
    meta["soup_of"] = [{k: m[k] for k in ("seed", "epochs", "lines", "training_data_sha256")}
                       for m in metas]
    with open(os.path.join(out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
