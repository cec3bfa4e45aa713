#!/usr/bin/env python3
"""Runs a suite of models that crash, hang and run out of memory under
`accelbench run --isolate`, with a runner whose family is the test family
Spin (tests/cli/isolate_runner.cpp).

    isolate.py RUNNER WORK_DIR

Four models, cells n = 1, 2, 3 each: spin-none (all ok); segfault-run,
hang-run and alloc-run, whose cell n = 2 raises SIGSEGV, sleeps forever
(--timeout 1) and allocates until an allocation fails (--max-memory 1G).
The run finishes with exit status 3; the results file has those cells
crashed ("killed by SIGSEGV"), timeout and out_of_memory, every other cell
ok, the cells after the crashing one measured too, and the journal holds
each cell once; resumed, it measures nothing again. --max-memory without
--isolate is refused (exit status 2).
Prints "isolate: ok" at the end.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import time

RUNNER, WORK = sys.argv[1], sys.argv[2]
MODELS = ["spin-none", "segfault-run", "hang-run", "alloc-run"]
SUITE = {
    "name": "isolate",
    "benchmarks": [{"family": "spin", "models": MODELS}],
    "batch_sizes": [1, 2, 3],
    "warmup_iterations": 1,
    "min_iterations": 2,
    "max_iterations": 50,
    "min_time_s": 0.0,
    "max_time_s": 0.05,
    "concurrent_loading": False,
    "threads": 1,
}
EXPECTED = {
    ("segfault-run", 2): ("crashed", "killed by SIGSEGV"),
    ("hang-run", 2): ("timeout", "cell_timeout_s (1 s) passed"),
    ("alloc-run", 2): ("out_of_memory", "max_memory (1073741824 bytes)"),
}


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
suite = os.path.join(WORK, "suite.json")
with open(suite, "w") as f:
    json.dump(SUITE, f)
out = os.path.join(WORK, "results")

refused = subprocess.run([RUNNER, "run", "--suite", suite, "--max-memory", "1G", "--out", out],
                         capture_output=True, text=True, timeout=120)
if refused.returncode != 2 or "max_memory = 1073741824: applies to isolated runs only" not in refused.stderr:
    fail("--max-memory without --isolate: exit %d, %r" % (refused.returncode, refused.stderr))

started = time.monotonic()
run = subprocess.run([RUNNER, "run", "--suite", suite, "--isolate", "--max-memory", "1G", "--timeout", "1",
                      "--out", out], capture_output=True, text=True, timeout=600)
took = time.monotonic() - started
if run.returncode != 3:
    fail("exit status %d, expected 3\n%s\n%s" % (run.returncode, run.stdout, run.stderr))
results = [p for p in glob.glob(os.path.join(out, "*.json")) if not p.endswith(".journal.jsonl")]
if len(results) != 1:
    fail("expected one results file in %s, found %s" % (out, results))
with open(results[0]) as f:
    cells = json.load(f)["cells"]
seen = {}
for c in cells:
    key = (c["model"], c["shape"]["n"])
    if key in seen:
        fail("cell %s twice in the results" % (key,))
    seen[key] = (c["status"], c["message"] or "")
for model in MODELS:
    for n in (1, 2, 3):
        if (model, n) not in seen:
            fail("cell %s/n=%d missing from the results" % (model, n))
        status, message = seen[(model, n)]
        want, words = EXPECTED.get((model, n), ("ok", ""))
        if status != want or words not in message:
            fail("%s/n=%d: %s (%r), expected %s (with %r)" % (model, n, status, message, want, words))
journal = results[0][: -len(".json")] + ".journal.jsonl"
with open(journal) as f:
    keys = [json.loads(line).get("key") for line in f if '"kind":"cell"' in line.replace(" ", "")]
if len(keys) != 12 or len(set(keys)) != 12:
    fail("the journal holds %d cell lines, %d keys; expected 12" % (len(keys), len(set(keys))))
for words in ("crashed: killed by SIGSEGV", "timeout: cell_timeout_s", "out_of_memory: out of memory"):
    if words not in run.stderr:
        fail("no progress line with %r:\n%s" % (words, run.stderr))
# Resumed, the crashed, timed-out and out-of-memory cells count as measured.
resumed = subprocess.run([RUNNER, "run", "--resume", journal], capture_output=True, text=True, timeout=120)
if resumed.returncode != 3 or "12 of 12 cells measured before" not in resumed.stderr:
    fail("resume: exit %d, %r" % (resumed.returncode, resumed.stderr))
with open(journal) as f:
    if sum('"kind":"cell"' in line.replace(" ", "") for line in f) != 12:
        fail("resume measured cells again")
print("isolated run of %d cells took %.1f s" % (len(cells), took))
print("isolate: ok")
