#!/usr/bin/env python3
"""Checks `-o/--output` and `accelbench report`.

    outputs.py ACCELBENCH WORK_DIR

1. `run -o FORMAT` prints that format alone on standard output (parsed
   here: json, jsonl, csv, md, gbench, html; sql loaded into SQLite), the table and progress on standard
   error, and still writes the results file in --out. The cpu device records
   OMP_WAIT_POLICY passive (accelbench sets it and starts again when the
   variable is unset) and its free cores.
2. `report` over the results files written: every format, the selection
   flags (a backend, a model, dates, a commit), `--file` written whole with
   the format taken from its extension; the runs merged into one report.
   The same files imported into a SQLite store: `report --db`, and
   `regress --db` between the stored runs `last~1` and `last`; with a
   PostgreSQL server (ACCELBENCH_TEST_STORE_URL), a run stored there and
   one in SQLite reported together and compared.
3. Errors name what is wrong: an unreadable file among good ones (the others
   are reported, exit status 1), nothing selected (exit status 2), an
   unknown format, a malformed date, `--out -`.
4. `matrix -o json` prints the matrix as JSON.
Prints "outputs: ok" at the end.
"""
import csv
import glob
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys

PROGRAM, WORK = sys.argv[1], sys.argv[2]
QUICK = ["--models", "bert-tiny", "--batch-sizes", "1,2", "--sequence-lengths", "8", "--warmup", "1",
         "--min-iterations", "2", "--min-time", "0.02", "--max-time", "0.05", "--no-concurrent-loading",
         "--quiet", "--threads", "1"]


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run(args):
    done = subprocess.run([PROGRAM] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")


def sql_cells(text):
    """The cells of the run that the SQL text loads into an empty SQLite database."""
    db = sqlite3.connect(":memory:")
    db.executescript(text)
    return db.execute("SELECT count(*) FROM cells").fetchone()[0]


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
out = os.path.join(WORK, "results")

# 1. run -o FORMAT
parsers = {
    "json": lambda text: len(json.loads(text)["cells"]),
    "jsonl": lambda text: len([json.loads(line) for line in text.splitlines() if line.strip()]),
    "csv": lambda text: len(list(csv.DictReader(io.StringIO(text)))),
    "md": lambda text: text.count("| bert-tiny") if text.startswith("# ") else -1,
    "gbench": lambda text: len([b for b in json.loads(text)["benchmarks"] if b.get("aggregate_name") == "median"]),
    "sql": lambda text: sql_cells(text),
    "html": lambda text: text.count('data-chart="') if text.startswith("<!DOCTYPE html>") else -1,
}
for fmt, count in parsers.items():
    status, stdout, stderr = run(["run"] + QUICK + ["--out", out, "--name", "o-" + fmt, "-o", fmt])
    if status != 0:
        fail("run -o %s: exit status %d\n%s" % (fmt, status, stderr))
    try:
        n = count(stdout)
    except Exception as e:  # noqa: BLE001 - any parse failure is the finding
        fail("run -o %s: standard output does not parse: %s\n%s" % (fmt, e, stdout[:2000]))
    if n < 2:
        fail("run -o %s: %d cells on standard output, expected 2 or more\n%s" % (fmt, n, stdout[:2000]))
    if "wrote " not in stderr or "bert-tiny" not in stderr:
        fail("run -o %s: the table and file name are not on standard error\n%s" % (fmt, stderr))
    if not glob.glob(os.path.join(out, "o-%s-*.json" % fmt)):
        fail("run -o %s: no results file in --out" % fmt)
    print("run -o %s: %d cells on standard output, the table on standard error" % (fmt, n))

# OpenMP's wait policy: accelbench starts itself again with OMP_WAIT_POLICY=passive
# unless the variable is set; the cpu device's properties say the policy.
with open(glob.glob(os.path.join(out, "o-json-*.json"))[0], encoding="utf-8") as f:
    devices = [d for d in json.load(f)["devices"] if d.get("backend") == "cpu"]
expected = os.environ.get("OMP_WAIT_POLICY", "passive") or "default (spins before sleeping)"
policies = [d.get("properties", {}).get("omp_wait_policy") for d in devices]
if not devices or any(p != expected for p in policies):
    fail("run: the cpu device's omp_wait_policy is %r, expected %r" % (policies, expected))
if any("free_cores" not in d.get("properties", {}) for d in devices):
    fail("run: the cpu device does not say its free_cores")
print("run: omp_wait_policy %s in the cpu device's properties" % expected)

# --report: the reports beside the results file.
status, stdout, stderr = run(["run"] + QUICK + ["--out", out, "--name", "beside", "--report", "md,html,csv"])
written = glob.glob(os.path.join(out, "beside-*.json"))
if status != 0 or len(written) != 1:
    fail("run --report: exit status %d\n%s" % (status, stderr))
stem = written[0][: -len(".json")]
for ext, mark in ((".md", "# accelbench report"), (".html", "<!DOCTYPE html>"), (".csv", "started_at,")):
    with open(stem + ext, encoding="utf-8") as f:
        if not f.read().startswith(mark):
            fail("run --report: %s does not start with %r" % (stem + ext, mark))
status, _, stderr = run(["run"] + QUICK + ["--report", "json"])
if status != 2 or '--report = "json"' not in stderr:
    fail("run --report json: exit status %d\n%s" % (status, stderr))
os.remove(written[0])  # not one of the -o runs below
print("run --report md,html,csv: the three reports beside the results file")

# 2. report over the files written
files = sorted(f for f in glob.glob(os.path.join(out, "o-*.json")))
status, stdout, stderr = run(["report"] + files)
if status != 0 or not stdout.startswith("# ") or stdout.count("| bert-tiny") < 2:
    fail("report (md): exit status %d\n%s\n%s" % (status, stdout[:2000], stderr))
status, stdout, stderr = run(["report", "-o", "json"] + files)
merged = json.loads(stdout)
if len(merged["cells"]) != 2 * len(files):
    fail("report -o json: %d cells from %d files" % (len(merged["cells"]), len(files)))
status, stdout, _ = run(["report", "-o", "csv", "--backends", "opencl"] + files)
if status != 2:
    fail("report --backends opencl over cpu results: exit status %d, expected 2 (nothing selected)" % status)
status, stdout, _ = run(["report", "-o", "csv", "--backends", "cpu", "--models", "bert-tiny"] + files)
rows = list(csv.DictReader(io.StringIO(stdout)))
if status != 0 or len(rows) != 2 * len(files) or any(r["backend"] != "cpu" for r in rows):
    fail("report -o csv --backends cpu: exit status %d, %d rows" % (status, len(rows)))
started = merged["started_at"]
status, stdout, _ = run(["report", "-o", "jsonl", "--since", started[:10], "--until", started[:10]] + files)
if status != 0 or len(stdout.splitlines()) != 2 * len(files):
    fail("report --since/--until the run's day: exit status %d, %d lines" % (status, len(stdout.splitlines())))
status, _, _ = run(["report", "--until", "2000-01-01"] + files)
if status != 2:
    fail("report --until 2000-01-01: exit status %d, expected 2" % status)
commit = merged["build"]["git_commit"]
if commit:
    status, _, _ = run(["report", "--commit", commit[:7]] + files)
    if status != 0:
        fail("report --commit %s: exit status %d" % (commit[:7], status))
target = os.path.join(WORK, "report.csv")
status, stdout, stderr = run(["report", "--file", target] + files)
if status != 0 or stdout or "wrote " + target not in stderr:
    fail("report --file: exit status %d, %d bytes on standard output\n%s" % (status, len(stdout), stderr))
with open(target) as f:
    if len(list(csv.DictReader(f))) != 2 * len(files):
        fail("report --file report.csv: not the CSV of every cell")
print("report: %d files merged; md, json, csv, jsonl; selection by backend, model, date and commit; --file" %
      len(files))

# history over the files, with its HTML page of charts.
page = os.path.join(WORK, "history.html")
status, stdout, stderr = run(["history", "--html", page, "--backends", "cpu"] + files)
if status != 0 or "change points" not in stdout:
    fail("history --html: exit status %d\n%s%s" % (status, stdout, stderr))
with open(page, encoding="utf-8") as f:
    charts = f.read().count('data-chart="history"')
if charts != 2:  # bert-tiny at batch sizes 1 and 2
    fail("history --html: %d history charts, expected 2" % charts)
print("history: %d runs, %d charts in its HTML page" % (len(files), charts))

# The same runs through the results store: import, report --db, regress
# between stored runs named by "last".
db = os.path.join(WORK, "store.db")
status, stdout, stderr = run(["import", "--db", db] + files)
if status != 0:
    fail("import: exit status %d\n%s%s" % (status, stdout, stderr))
status, stdout, stderr = run(["report", "--db", db, "-o", "json", "--models", "bert-tiny"])
if status != 0 or len(json.loads(stdout)["cells"]) != 2 * len(files):
    fail("report --db: exit status %d\n%s" % (status, stderr))
status, stdout, stderr = run(["regress", "--db", db, "--baseline", "last~1", "--contender", "last",
                              "--max-slowdown", "1000%,memory=1000%"])
if status != 0 or "baseline:" not in stdout or "no regression" not in stdout:
    fail("regress --baseline last~1 --contender last: exit status %d\n%s%s" % (status, stdout, stderr))
status, _, stderr = run(["regress", "--baseline", "last", "--contender", "last"])
if status != 2 or "give --db URL" not in stderr:
    fail("regress --baseline last without --db: exit status %d\n%s" % (status, stderr))
print("store: %d files imported, reported from the store, the last two stored runs compared" % len(files))

# With a PostgreSQL server (ACCELBENCH_TEST_STORE_URL, the test fixture's):
# one run stored there, one in SQLite; reported together and compared.
postgres = os.environ.get("ACCELBENCH_TEST_STORE_URL", "")
if postgres:
    def stored_id(url, path):
        status, stdout, stderr = run(["import", "--db", url, path])
        if status != 0:
            fail("import into %s: exit status %d\n%s%s" % (url, status, stdout, stderr))
        found = re.search(r"imported (?:as|before as) run (\d+)", stdout)
        if not found:
            fail("import into %s: no run id in\n%s" % (url, stdout))
        return found.group(1)
    lite = os.path.join(WORK, "one.db")
    in_postgres, in_sqlite = stored_id(postgres, files[0]), stored_id(lite, files[1])
    status, stdout, stderr = run(["report", "--db", postgres, "--db", lite, "-o", "json", "--since", started[:10],
                                  "--models", "bert-tiny", "--host", merged["system"]["hostname"]])
    if status != 0 or len(json.loads(stdout)["cells"]) < 4:
        fail("report --db postgresql --db sqlite: exit status %d\n%s" % (status, stderr))
    status, stdout, stderr = run(["regress", "--baseline-db", postgres, "--baseline", in_postgres,
                                  "--contender-db", lite, "--contender", in_sqlite,
                                  "--max-slowdown", "1000%,memory=1000%"])
    if status != 0 or "no regression" not in stdout:
        fail("regress PostgreSQL run %s vs SQLite run %s: exit status %d\n%s%s" %
             (in_postgres, in_sqlite, status, stdout, stderr))
    print("PostgreSQL and SQLite: run %s and run %s reported together and compared" % (in_postgres, in_sqlite))

# 3. errors
bad = os.path.join(WORK, "not-results.json")
with open(bad, "w") as f:
    f.write('{"schema": "something.else"}')
status, stdout, stderr = run(["report", "-o", "json", bad] + files)
if status != 1 or "not-results.json" not in stderr or len(json.loads(stdout)["cells"]) != 2 * len(files):
    fail("report with a bad file: exit status %d\n%s" % (status, stderr))
for args, expect in [(["report", "-o", "yaml"] + files, '--output = "yaml": unknown format'),
                     (["report", "--since", "yesterday"] + files, '--since = "yesterday": expected a date'),
                     (["run"] + QUICK + ["--out", "-"], '--out = "-": names a folder'),
                     (["run"] + QUICK + ["-o", "pdf"], '--output = "pdf": unknown format'),
                     (["report"], "report needs results files")]:
    status, stdout, stderr = run(args)
    if status != 2 or expect not in stderr:
        fail("%s: exit status %d, expected 2 and %r\n%s" % (" ".join(args), status, expect, stderr))
print("errors: a bad file among good ones, unknown formats, a malformed date, --out - are named")

# 4. matrix -o json
status, stdout, stderr = run(["matrix", "--families", "embedding", "--backends", "cpu", "--max-time", "0.2",
                              "--threads", "1", "--out", os.path.join(WORK, "matrix"), "--quiet", "-o", "json"])
if status != 0 or json.loads(stdout)["schema"] != "accelbench.compatibility" or "wrote " not in stderr:
    fail("matrix -o json: exit status %d\n%s\n%s" % (status, stdout[:1000], stderr))
print("matrix -o json: the matrix as JSON on standard output")
print("outputs: ok")
