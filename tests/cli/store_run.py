#!/usr/bin/env python3
"""`accelbench run --db` and `accelbench import` with a SQLite results store,
run by a runner whose family is the test family Spin
(tests/cli/isolate_runner.cpp), which measures in a few milliseconds.

    store_run.py RUNNER WORK_DIR

1. run --db: the store has the run, status complete, with every cell of
   the results file once, as the results file has it.
2. SIGINT after two cells: exit status 130, the stored run interrupted,
   with the cells the journal holds (the last one may be missing when the
   signal came between the journal and the store); run --resume --db
   continues the same stored run: complete, every cell once.
3. SIGKILL after two cells: the stored run stays running with its cells;
   resumed, it is completed.
4. import: a results file is imported once (again: skipped), a bad file
   is named with the reason while the others are imported (exit status 1).
5. run --db with a URL of an unknown scheme stops before anything is
   measured or written (exit status 1), the password masked.
Prints "store run: ok" at the end.
"""
import glob
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

RUNNER, WORK = sys.argv[1], sys.argv[2]
# 2 models x 6 cells of about 0.1 s each.
SUITE = {
    "name": "store",
    "benchmarks": [{"family": "spin", "models": ["spin-200us", "spin-100us"]}],
    "batch_sizes": [1, 2, 3, 4, 5, 6],
    "warmup_iterations": 1,
    "min_iterations": 2,
    "max_iterations": 100000,
    "min_time_s": 0.1,
    "max_time_s": 0.1,
    "concurrent_loading": False,
    "threads": 1,
}
TOTAL = 12


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def key(cell):
    shape = ",".join(f"{k}={v}" for k, v in cell["shape"].items())
    return f'{cell["family"]}/{cell["model"]}/{cell["backend"]}/{shape}'


def journal_keys(path):
    keys = []
    with open(path, "rb") as f:
        for line in f.read().split(b"\n"):
            if line.endswith(b"}"):
                entry = json.loads(line)
                if entry.get("kind") == "cell":
                    keys.append(entry["key"])
    return keys


def stored_runs(db):
    with sqlite3.connect(db) as c:
        return c.execute("SELECT id, status, finished_at FROM runs ORDER BY id").fetchall()


def stored_cells(db, run):
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT cell_key, cell_json FROM cells WHERE run_id = ? ORDER BY id", (run,)).fetchall()
    return [(k, json.loads(j)) for k, j in rows]


def run(args, **kwargs):
    return subprocess.run([RUNNER] + args, capture_output=True, text=True, timeout=300, **kwargs)


def start_and_stop(args, sig, journal_glob):
    """Starts a run, sends `sig` once its journal holds two cells; its exit
    status, output and journal."""
    p = subprocess.Popen([RUNNER] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    journal = None
    while time.time() < deadline:
        found = glob.glob(journal_glob)
        if found and len(journal_keys(found[0])) >= 2:
            journal = found[0]
            break
        if p.poll() is not None:
            fail("the run ended before it could be stopped: " + p.stderr.read())
        time.sleep(0.02)
    if journal is None:
        p.kill()
        fail("no journal with two cells after 120 s")
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    return p.returncode, out + err, journal


def check_complete(db, run_id, results_file):
    with open(results_file) as f:
        results = json.load(f)
    cells = stored_cells(db, run_id)
    keys = [k for k, _ in cells]
    if len(keys) != len(set(keys)):
        fail(f"a cell stored twice: {keys}")
    if len(cells) != TOTAL or len(results["cells"]) != TOTAL:
        fail(f"{len(cells)} cells stored, {len(results['cells'])} in the results file, expected {TOTAL}")
    by_key = {key(c): c for c in results["cells"]}
    for k, c in cells:
        if by_key.get(k) != c:
            fail(f"the stored cell {k} differs from the results file's")
    status = [r[1] for r in stored_runs(db) if r[0] == run_id]
    if status != ["complete"]:
        fail(f"stored run {run_id} has status {status}, expected complete")


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
suite = os.path.join(WORK, "suite.json")
with open(suite, "w") as f:
    json.dump(SUITE, f)

# 1. A whole run.
db = os.path.join(WORK, "results.db")
out1 = os.path.join(WORK, "one")
r = run(["run", "--suite", suite, "--quiet", "--out", out1, "--db", "sqlite:" + db])
if r.returncode != 0:
    fail(f"run --db: exit status {r.returncode}\n{r.stdout}{r.stderr}")
if "stored as run 1 in sqlite:" not in r.stdout:
    fail("run --db does not say where the run was stored:\n" + r.stdout)
runs = stored_runs(db)
if len(runs) != 1 or runs[0][1] != "complete" or not runs[0][2]:
    fail(f"stored runs after one run: {runs}")
results1 = glob.glob(os.path.join(out1, "store-*.json"))
if len(results1) != 1:
    fail(f"results files: {results1}")
check_complete(db, 1, results1[0])

# 2. SIGINT, then --resume.
db2 = os.path.join(WORK, "interrupted.db")
out2 = os.path.join(WORK, "two")
status, output, journal = start_and_stop(["run", "--suite", suite, "--out", out2, "--db", db2], signal.SIGINT,
                                         os.path.join(out2, "*.journal.jsonl"))
if status != 130:
    fail(f"SIGINT: exit status {status}, expected 130\n{output}")
if "marked interrupted" not in output:
    fail("SIGINT: the run is not said to be marked interrupted in the store:\n" + output)
runs = stored_runs(db2)
if len(runs) != 1 or runs[0][1] != "interrupted" or not runs[0][2]:
    fail(f"stored runs after SIGINT: {runs}")
journaled = journal_keys(journal)
stored = [k for k, _ in stored_cells(db2, runs[0][0])]
if not set(stored) <= set(journaled) or len(stored) < len(journaled) - 1 or len(stored) < 2:
    fail(f"after SIGINT: stored cells {stored}, journaled {journaled}")
r = run(["run", "--resume", journal, "--quiet", "--db", db2])
if r.returncode != 0:
    fail(f"run --resume --db: exit status {r.returncode}\n{r.stdout}{r.stderr}")
if len(stored_runs(db2)) != 1:
    fail(f"the resumed run was stored as another run: {stored_runs(db2)}")
check_complete(db2, runs[0][0], journal.replace(".journal.jsonl", ".json"))

# 3. SIGKILL, then --resume.
db3 = os.path.join(WORK, "killed.db")
out3 = os.path.join(WORK, "three")
status, output, journal = start_and_stop(["run", "--suite", suite, "--out", out3, "--db", db3], signal.SIGKILL,
                                         os.path.join(out3, "*.journal.jsonl"))
runs = stored_runs(db3)
if len(runs) != 1 or runs[0][1] != "running":
    fail(f"stored runs after SIGKILL: {runs}")
if len(stored_cells(db3, runs[0][0])) < 1:
    fail("after SIGKILL: no cell stored")
r = run(["run", "--resume", journal, "--quiet", "--db", db3])
if r.returncode != 0:
    fail(f"run --resume --db after SIGKILL: exit status {r.returncode}\n{r.stdout}{r.stderr}")
check_complete(db3, runs[0][0], journal.replace(".journal.jsonl", ".json"))

# 4. import.
imported = os.path.join(WORK, "imported.db")
bad = os.path.join(WORK, "bad.json")
with open(bad, "w") as f:
    f.write('{"schema": "accelbench.result", "cells": [')
second = journal.replace(".journal.jsonl", ".json")
r = run(["import", results1[0], "--db", imported])
if r.returncode != 0 or "imported as run 1 (12 cells)" not in r.stdout:
    fail(f"import: exit status {r.returncode}\n{r.stdout}{r.stderr}")
r = run(["import", results1[0], bad, second, "--db", "sqlite:" + imported])
if r.returncode != 1:
    fail(f"import with a bad file: exit status {r.returncode}, expected 1\n{r.stdout}{r.stderr}")
if "imported before as run 1, skipped" not in r.stdout:
    fail("import again: not skipped\n" + r.stdout)
if "import " + bad + ": results file '" + bad + "'" not in r.stderr or "(not imported)" not in r.stderr:
    fail("import: the bad file is not named with the reason\n" + r.stderr)
if "1 imported, 1 skipped (imported before), 1 failed" not in r.stdout:
    fail("import: the summary\n" + r.stdout)
runs = stored_runs(imported)
if [(i, s) for i, s, _ in runs] != [(1, "complete"), (2, "complete")]:
    fail(f"imported runs: {runs}")
check_complete(imported, 1, results1[0])
check_complete(imported, 2, second)

# 5. A store that cannot be opened: nothing measured, nothing written.
out5 = os.path.join(WORK, "five")
r = run(["run", "--suite", suite, "--out", out5, "--db", "mysql://bench:hunter2@db/results"])
if r.returncode != 1 or "results store 'mysql://bench:***@db/results': unknown scheme 'mysql'" not in r.stderr:
    fail(f"run --db mysql://...: exit status {r.returncode}\n{r.stdout}{r.stderr}")
if "hunter2" in r.stdout + r.stderr or os.path.exists(out5):
    fail("run --db mysql://...: the password is shown, or the output folder was made")

print("store run: ok")
