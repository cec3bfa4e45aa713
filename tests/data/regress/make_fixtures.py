#!/usr/bin/env python3
"""Writes the small results files the CLI tests of `accelbench regress` and
`accelbench history` read (tests/CMakeLists.txt). Fabricated, reproducible
(fixed seeds): run it from this folder to write them again."""
import json
import random
import statistics


def summary(samples):
    s = sorted(samples)
    med = statistics.median(s)
    return {"count": len(s), "min_s": s[0], "max_s": s[-1], "mean_s": statistics.fmean(s), "median_s": med,
            "confidence": 0.95, "median_ci": {"low_s": s[len(s) // 2 - 4], "high_s": s[len(s) // 2 + 3]}}


def cell(rng, family, model, shape, median, items, unit, phases=(), status="ok", message=""):
    samples = [round(rng.gauss(median, median * 0.01), 9) for _ in range(20)]
    c = {"model": model, "family": family, "backend": "cpu", "shape": shape, "status": status, "message": message,
         "latency": summary(samples), "samples_s": samples,
         "throughput": {"item_unit": unit, "items_per_second": items / statistics.fmean(samples)},
         "memory": {"peak_rss_bytes": 64 << 20}, "phases": []}
    for name, unit_, phase_median in phases:
        occurrences = [round(rng.gauss(phase_median, phase_median * 0.01), 9) for _ in range(20)]
        c["phases"].append({"name": name, "item_unit": unit_, "items": 1, "per_run": 1,
                            "latency": summary(occurrences), "items_per_second": 1 / phase_median})
    return c


def run(started_at, commit, cells):
    return {"schema": "accelbench.result", "schema_version": 1, "library_version": "0.1.0",
            "started_at": started_at, "finished_at": started_at,
            "system": {"hostname": "ci-1", "cpu_model": "Example CPU"},
            "build": {"git_commit": commit, "optimized": True}, "cells": cells}


def cells(seed, slow=1.0, changed=False):
    rng = random.Random(seed)
    out = [cell(rng, "embedding", "bert-tiny", {"batch_size": 1, "sequence_length": 128}, 1e-3 * slow, 1,
                "sequences")]
    if not changed:
        out.append(cell(rng, "embedding", "bert-tiny", {"batch_size": 4, "sequence_length": 128}, 3e-3, 4,
                        "sequences"))
    out.append(cell(rng, "text_generation", "llama-tiny", {"batch_size": 1, "prompt_length": 16, "new_tokens": 8},
                    20e-3, 8, "tokens", phases=[("prefill", "prompt tokens", 4e-3), ("decode", "tokens", 2e-3)],
                    status="failed" if changed else "ok", message="example failure" if changed else ""))
    if changed:
        out.append(cell(rng, "vision", "vit-tiny", {"batch_size": 1, "image_size": 224}, 5e-3, 1, "images"))
    return out


def write(name, data):
    with open(name, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


write("baseline.json", run("2026-12-01T10:00:00Z", "1111111", cells(1)))
write("same.json", run("2026-12-02T10:00:00Z", "2222222", cells(2)))
write("slower.json", run("2026-12-03T10:00:00Z", "3333333", cells(3, slow=1.2)))
write("changed.json", run("2026-12-04T10:00:00Z", "4444444", cells(4, changed=True)))
# Ten runs of bert-tiny, batch 1: 1 ms, then 1.25 ms from the sixth on.
for i in range(10):
    rng = random.Random(100 + i)
    c = cell(rng, "embedding", "bert-tiny", {"batch_size": 1, "sequence_length": 128}, 1e-3 * (1.25 if i >= 5 else 1),
             1, "sequences")
    write(f"history-{i + 1}.json", run(f"2026-12-{10 + i:02d}T10:00:00Z", f"{i + 1:02d}aaaaa", [c]))
