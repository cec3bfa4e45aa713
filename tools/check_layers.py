#!/usr/bin/env python3
"""Checks the layering of include/accelbench/: a header includes only
headers of its own layer or of layers below it, and no header is longer
than the limit. Exit status 1, with every violation listed, otherwise 0.

Layers, lowest first (docs/layout.md):
  detail < core < measure < machine < backend < model < family < report < run < suite < testing < cli < (top)
The top-level headers (accelbench.hpp, concepts.hpp) may include anything.
"""
import os
import re
import sys

LAYERS = ["detail", "core", "measure", "machine", "backend", "model", "family", "report", "run", "suite", "testing", "cli"]
MAX_LINES = 500
# Headers over the limit that are still to be split, each with its reason.
LONG_ALLOWED = {}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel):
    top = rel.split("/")[0]
    return LAYERS.index(top) if top in LAYERS else len(LAYERS)


def main(root):
    base = os.path.join(root, "include", "accelbench")
    problems = []
    for folder, _, files in os.walk(base):
        for name in sorted(files):
            if not name.endswith((".hpp", ".cuh")):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, base).replace(os.sep, "/")
            text = open(path, encoding="utf-8").read()
            lines = text.count("\n")
            if lines > MAX_LINES and rel not in LONG_ALLOWED:
                problems.append(f"{rel}: {lines} lines (the limit is {MAX_LINES})")
            mine = layer_of(rel)
            for included in INCLUDE.findall(text):
                target = os.path.normpath(os.path.join(os.path.dirname(rel), included)).replace(os.sep, "/")
                if not os.path.exists(os.path.join(base, target)):
                    problems.append(f"{rel}: includes {included}, which does not exist")
                    continue
                theirs = layer_of(target)
                if theirs > mine:
                    problems.append(f"{rel} ({LAYERS[mine] if mine < len(LAYERS) else 'top'}) includes "
                                    f"{target} ({LAYERS[theirs] if theirs < len(LAYERS) else 'top'}), a layer above it")
    for p in problems:
        print(p)
    print(f"check_layers: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")))
