#!/usr/bin/env python3
"""`accelbench run` with model sets (--models-set, --specific-models) and
the verify-only and benchmark-only modes.

    model_sets.py RUNNER WORK_DIR [BACKENDS]

1. `run --models-set key --verify-only --hardware BACKENDS` (default cpu;
   the test command gives cpu,opencl where the runner has OpenCL): exit status 0; the printed
   matrix and DIR/compatibility.json hold every one of the thirteen key
   models on cpu and on each other backend: `reference` on cpu and `ok`
   elsewhere; no row has a time.
2. `run --suite FILE` (timed) of a suite that lists bert-tiny and a model
   the library does not implement (CLAP's fusion path): the table of
   bert-tiny, the "not run" line for the other, the results file with its
   model entry `unsupported`, bert-tiny's cells verified.
3. `--benchmark-only` on BACKENDS: the cells carry no verification.
4. `--models-set custom FILE`: a set of two presets runs them, named by
   the file's keys in --specific-models.
Prints "model sets: ok" at the end.
"""
import glob
import json
import os
import shutil
import subprocess
import sys

RUNNER, WORK = sys.argv[1], sys.argv[2]
KEY = ["bert", "clap", "clip", "detr", "llama", "llava", "llava_next", "qwen2", "t5", "vit", "wav2vec2", "whisper",
       "xclip"]
PRESETS = {"bert": "bert-tiny", "clip": "clip-vit-base-patch32", "detr": "detr-tiny", "llama": "llama-tiny", "llava": "llava-tiny",
           "llava_next": "llava-next-tiny",
           "qwen2": "qwen2-tiny", "t5": "t5-small", "vit": "vit-tiny", "wav2vec2": "wav2vec2-base",
           "whisper": "whisper-tiny", "xclip": "xclip-tiny", "clap": "clap-tiny"}
QUICK = ["--batch-sizes", "1", "--sequence-lengths", "8", "--warmup", "0", "--min-iterations", "2", "--min-time", "0",
         "--max-time", "0.2", "--no-concurrent-loading", "--threads", "1", "--quiet"]


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run(args, expect=0, timeout=1200):
    p = subprocess.run([RUNNER] + args, capture_output=True, text=True, timeout=timeout)
    if p.returncode != expect:
        fail(f"{' '.join(args)}: exit {p.returncode}, expected {expect}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def results_file(folder):
    files = [f for f in glob.glob(os.path.join(folder, "*.json")) if not f.endswith(".journal.jsonl")]
    if len(files) != 1:
        fail(f"expected one results file in {folder}, found {files}")
    with open(files[0]) as f:
        return json.load(f)


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
backends = sys.argv[3].split(",") if len(sys.argv) > 3 else ["cpu"]

# 1. The key set, verified on every backend, no timing.
out = os.path.join(WORK, "verify")
p = run(["run", "--models-set", "key", "--verify-only", "--hardware", ",".join(backends), "--out", out, "--threads",
         "1"])
print(p.stdout)
with open(os.path.join(out, "compatibility.json")) as f:
    matrix = json.load(f)
rows = {(r["model"], r["backend"]): r for r in matrix["rows"]}
for key in KEY:
    model = PRESETS.get(key, key)
    for backend in backends:
        r = rows.get((model, backend))
        if r is None:
            fail(f"no row for {model} on {backend}")
        if r.get("median_ms") is not None or r.get("median_s") is not None:
            fail(f"{model} on {backend}: --verify-only rows carry no time: {r}")
        expected = "reference" if backend == "cpu" else "ok"
        if r["status"] != expected:
            fail(f"{model} on {backend}: {r['status']} ({r.get('reason')}), expected {expected}")
        if f"| {model} |" not in p.stdout:
            fail(f"{model} is not in the printed matrix")
if len(matrix["rows"]) != len(KEY) * len(backends):
    fail(f"{len(matrix['rows'])} rows, expected {len(KEY) * len(backends)}")
print(f"verify-only: {len(KEY)} key models on {', '.join(backends)}: all verified")

# 2. A timed run of a suite with a model the library does not implement.
out = os.path.join(WORK, "timed")
suite = os.path.join(WORK, "unsupported.suite.json")
with open(suite, "w") as f:
    json.dump({"benchmarks": [{"family": "embedding", "models": ["bert-tiny"]}],
               "unsupported": [{"model": "clap-htsat-fused",
                                "reason": "CLAP's fusion path (enable_fusion) is not implemented"}]}, f)
p = run(["run", "--suite", suite, "--out", out] + QUICK)
if "not run:" not in p.stdout or "clap-htsat-fused: unsupported: CLAP's fusion path" not in p.stdout:
    fail("the table does not say clap-htsat-fused was not run:\n" + p.stdout)
results = results_file(out)
models = {m["name"]: m for m in results["models"]}
if models.get("clap-htsat-fused", {}).get("status") != "unsupported":
    fail(f"clap-htsat-fused's model entry: {models.get('clap-htsat-fused')}")
cells = [c for c in results["cells"] if c["model"] == "bert-tiny"]
if not cells or any(c["verification"]["status"] != "reference" for c in cells):
    fail("bert-tiny's cells on cpu are the verified reference: " + json.dumps([c["verification"] for c in cells]))

# 3. --benchmark-only: no verification (cpu stays the reference the others
#    would be compared with).
out = os.path.join(WORK, "benchmark-only")
run(["run", "--models-set", "small", "--specific-models", "bert", "--benchmark-only", "--hardware", ",".join(backends),
     "--out", out] + QUICK)
cells = results_file(out)["cells"]
for c in cells:
    expected = "reference" if c["backend"] == "cpu" else "skipped"
    if c["verification"]["status"] != expected:
        fail(f"--benchmark-only, {c['backend']}: verification {c['verification']}, expected {expected}")
if len({c["backend"] for c in cells}) != len(backends):
    fail(f"--benchmark-only: cells on {sorted({c['backend'] for c in cells})}, expected {backends}")

# 4. A custom set.
custom = os.path.join(WORK, "mine.json")
with open(custom, "w") as f:
    json.dump({"models": [{"key": "small-bert", "family": "embedding", "model": "bert-tiny"},
                          {"key": "small-vit", "family": "vision", "model": "vit-tiny"}]}, f)
out = os.path.join(WORK, "custom")
run(["run", "--models-set", "custom", custom, "--specific-models", "small-vit", "--out", out] + QUICK)
names = sorted({c["model"] for c in results_file(out)["cells"]})
if names != ["vit-tiny"]:
    fail(f"custom set, small-vit picked: cells of {names}")
p = run(["run", "--models-set", "custom", custom, "--specific-models", "bert", "--out", out] + QUICK, expect=2)
if "--specific-models = \"bert\": not in the model set mine (small-bert, small-vit)" not in p.stderr:
    fail("unknown member: " + p.stderr)
print("model sets: ok")
