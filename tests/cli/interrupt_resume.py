#!/usr/bin/env python3
"""Interrupts `accelbench run` and checks that no completed cell is lost.

    interrupt_resume.py ACCELBENCH WORK_DIR

1. SIGKILL after two cells are in the journal; `run --resume JOURNAL`
   completes the results file, and no cell is measured twice (the journal
   holds each cell's key once, the results file every cell once).
2. SIGINT after two cells: exit status 130, and the results file holds
   every cell the journal holds, the cells of the unfinished model too.
3. A resume with another suite is refused (exit status 2), naming the field.
4. A journal whose last line was cut short (killed while writing it) is
   resumed: the line is reported and measured again.
5. compare: SIGTERM after two compared cells gives exit status 130 and a
   results file with both; `compare --resume` completes it without
   measuring a cell twice.
6. A checkpoint folder whose name is not valid UTF-8 gives a results file
   with its cell, the bad byte written as U+FFFD.
7. matrix: SIGINT after its first row gives exit status 130 and
   compatibility.json and .md with the rows journaled; `matrix --resume`
   completes it without running a row twice.
Prints "interrupt and resume: ok" at the end.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

PROGRAM, WORK = sys.argv[1], sys.argv[2]
# bert-tiny, synthetic weights: 2 models x 3 batch sizes x 2 sequence lengths
# = 12 cells of about 0.3 s each.
SUITE = {
    "name": "interrupt",
    "models": ["bert-tiny", "all-MiniLM-L6-v2"],
    "batch_sizes": [1, 2, 3],
    "sequence_lengths": [8, 16],
    "warmup_iterations": 1,
    "min_iterations": 1,
    "min_time_s": 0.3,
    "max_time_s": 0.3,
    "concurrent_loading": False,
    "threads": 1,
}
TOTAL = 12


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def journal_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    return [json.loads(line) for line in data.split(b"\n") if line.strip() and line.endswith(b"}")]


def cell_keys(path):
    return [e["key"] for e in journal_lines(path)[1:] if e.get("kind") == "cell"]


def fresh(name):
    folder = os.path.join(WORK, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    suite = os.path.join(folder, "suite.json")
    with open(suite, "w") as f:
        json.dump(SUITE, f)
    return folder, suite


def start(folder, suite):
    out = os.path.join(folder, "results")
    proc = subprocess.Popen([PROGRAM, "run", "--suite", suite, "--out", out, "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc, out


def wait_for_cells(proc, out, n, limit_s=300):
    deadline = time.time() + limit_s
    while time.time() < deadline:
        journals = glob.glob(os.path.join(out, "*.journal.jsonl"))
        if journals and len(cell_keys(journals[0])) >= n:
            return journals[0]
        if proc.poll() is not None:
            fail("accelbench ended before %d cells: %s" % (n, proc.stdout.read().decode(errors="replace")))
        time.sleep(0.05)
    proc.kill()
    fail("no %d cells in the journal after %d s" % (n, limit_s))


def results_cells(path):
    with open(path) as f:
        return json.load(f)["cells"]


def key_of(cell):
    shape = ",".join("%s=%d" % (k, v) for k, v in cell["shape"].items())
    return "%s/%s/%s/%s" % (cell["family"], cell["model"], cell["backend"], shape)


def run(args):
    done = subprocess.run([PROGRAM] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return done.returncode, done.stdout.decode(errors="replace")


# 1. SIGKILL, then --resume.
folder, suite = fresh("kill")
proc, out = start(folder, suite)
journal = wait_for_cells(proc, out, 2)
proc.send_signal(signal.SIGKILL)
proc.wait()
before = cell_keys(journal)
if len(before) < 2:
    fail("the journal lost cells at SIGKILL: %s" % before)
status, text = run(["run", "--resume", journal, "--quiet"])
if status not in (0, 3):
    fail("run --resume: exit status %d\n%s" % (status, text))
after = cell_keys(journal)
if after[: len(before)] != before:
    fail("resume changed the cells journaled before")
if len(after) != TOTAL or len(set(after)) != TOTAL:
    fail("after resume the journal has %d cells, %d distinct; expected %d once each" %
         (len(after), len(set(after)), TOTAL))
results = journal[: -len(".journal.jsonl")] + ".json"
cells = results_cells(results)
if sorted(key_of(c) for c in cells) != sorted(after):
    fail("the results file's cells differ from the journal's")
print("SIGKILL after %d cells, resumed: %d cells, none measured twice" % (len(before), len(cells)))

# 2. SIGINT: exit status 130, every completed cell in the results file.
folder, suite = fresh("sigint")
proc, out = start(folder, suite)
journal = wait_for_cells(proc, out, 2)
proc.send_signal(signal.SIGINT)
try:
    proc.wait(timeout=60)
except subprocess.TimeoutExpired:
    proc.kill()
    fail("SIGINT did not end accelbench within 60 s")
if proc.returncode != 130:
    fail("SIGINT: exit status %d, expected 130\n%s" % (proc.returncode, proc.stdout.read().decode(errors="replace")))
journaled = cell_keys(journal)
results = journal[: -len(".journal.jsonl")] + ".json"
cells = results_cells(results)
if sorted(key_of(c) for c in cells) != sorted(journaled) or len(cells) < 2:
    fail("SIGINT: the results file has %d cells, the journal %d" % (len(cells), len(journaled)))
print("SIGINT after %d cells: exit status 130, results file with all %d" % (len(journaled), len(cells)))

# 3. A resume with another suite is refused, naming the field.
status, text = run(["run", "--resume", journal, "--suite", suite, "--batch-sizes", "1"])
if status != 2 or "batch_sizes" not in text or "different suite" not in text:
    fail("resume with another suite: exit status %d\n%s" % (status, text))
print("resume with another suite refused: " + text.strip().splitlines()[0])

# 4. A cut-short last line is reported, and that cell measured again.
with open(journal, "rb") as f:
    data = f.read()
cut = data[: data.rstrip(b"\n").rfind(b"\n") + 1] + data.rstrip(b"\n")[data.rstrip(b"\n").rfind(b"\n") + 1:][:40]
with open(journal, "wb") as f:
    f.write(cut)
kept = len(cell_keys(journal))
status, text = run(["run", "--resume", journal, "--quiet"])
if status not in (0, 3) or "incomplete" not in text:
    fail("resume after a cut-short line: exit status %d\n%s" % (status, text))
final = cell_keys(journal)
if len(final) != TOTAL or len(set(final)) != TOTAL:
    fail("after resuming a cut-short journal: %d cells, %d distinct" % (len(final), len(set(final))))
print("cut-short last line reported and measured again (%d kept, %d in all)" % (kept, len(final)))
# 5. compare journals each compared cell; SIGTERM writes the cells so far.
folder, suite = fresh("compare")
out = os.path.join(folder, "results")
proc = subprocess.Popen([PROGRAM, "compare", "--suite", suite, "--models", "bert-tiny", "--threads", "1,2",
                         "--out", out, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
journal = None
deadline = time.time() + 300
while time.time() < deadline:
    found = glob.glob(os.path.join(out, "compare-*.journal.jsonl"))
    if found and len(journal_lines(found[0])) >= 3:
        journal = found[0]
        break
    if proc.poll() is not None:
        fail("compare ended before two cells: %s" % proc.stdout.read().decode(errors="replace"))
    time.sleep(0.05)
if journal is None:
    proc.kill()
    fail("compare: no two cells in the journal")
proc.send_signal(signal.SIGTERM)
proc.wait(timeout=60)
if proc.returncode != 130:
    fail("compare, SIGTERM: exit status %d, expected 130" % proc.returncode)
compared = [e for e in journal_lines(journal)[1:] if e.get("kind") == "comparison_cell"]
with open(journal[: -len(".journal.jsonl")] + ".json") as f:
    written = json.load(f)["comparisons"][0]["cells"]
if len(written) != len(compared) or len(written) < 2:
    fail("compare, SIGTERM: %d cells written, %d journaled" % (len(written), len(compared)))
print("compare, SIGTERM after %d cells: exit status 130, results file with all %d" % (len(compared), len(written)))
# compare --resume: the cells compared before are kept, the others compared,
# none twice.
status, text = run(["compare", "--resume", journal, "--quiet"])
if status not in (0, 3):
    fail("compare --resume: exit status %d\n%s" % (status, text))
keys = [e["key"] for e in journal_lines(journal)[1:] if e.get("kind") == "comparison_cell"]
with open(journal[: -len(".journal.jsonl")] + ".json") as f:
    final = json.load(f)["comparisons"][0]["cells"]
# bert-tiny's sweep: 3 batch sizes x 2 sequence lengths.
if len(keys) != TOTAL // 2 or len(set(keys)) != len(keys) or len(final) != TOTAL // 2:
    fail("compare --resume: %d journaled (%d distinct), %d written; expected %d once each" %
         (len(keys), len(set(keys)), len(final), TOTAL // 2))
if [c["ratio"] for c in final[: len(compared)]] != [e["cell"]["ratio"] for e in compared]:
    fail("compare --resume measured again the cells compared before")
print("compare resumed: %d cells, the %d compared before kept as they were" % (len(final), len(compared)))
# 6. A checkpoint folder whose name is not valid UTF-8: the cell is measured,
# journaled and written, the bad byte as U+FFFD.
golden = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "golden", "bert")
folder, suite = fresh("utf8")
checkpoint = os.path.join(os.fsencode(folder), b"ckpt-\xff")
os.makedirs(checkpoint)
for name in ("config.json", "model.safetensors"):
    shutil.copy(os.path.join(golden, name), os.path.join(checkpoint, name.encode()))
out = os.path.join(folder, "results")
done = subprocess.run([os.fsencode(PROGRAM), b"run", b"--models", checkpoint, b"--batch-sizes", b"1",
                       b"--sequence-lengths", b"8", b"--min-time", b"0.05", b"--max-time", b"0.05",
                       b"--no-concurrent-loading", b"--quiet", b"--out", os.fsencode(out)],
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
if done.returncode not in (0, 3):
    fail("non-UTF-8 checkpoint folder: exit status %d\n%s" % (done.returncode, done.stdout.decode(errors="replace")))
written = glob.glob(os.path.join(out, "*.json"))
with open(written[0], encoding="utf-8") as f:
    document = json.load(f)
if len(document["cells"]) != 1 or "ckpt-\ufffd" not in json.dumps(document, ensure_ascii=False):
    fail("non-UTF-8 checkpoint folder: %d cells, U+FFFD %s" %
         (len(document["cells"]), "ckpt-\ufffd" in json.dumps(document, ensure_ascii=False)))
print("checkpoint folder with a non-UTF-8 name: cell %s, written as U+FFFD" % document["cells"][0]["status"])
# 7. matrix journals its rows; SIGINT writes the matrix with the rows done.
folder, suite = fresh("matrix")
out = os.path.join(folder, "results")
proc = subprocess.Popen([PROGRAM, "matrix", "--families", "embedding,vision,text-generation", "--max-time", "1",
                         "--threads", "1", "--out", out, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
journal = None
deadline = time.time() + 300
while time.time() < deadline:
    found = glob.glob(os.path.join(out, "compatibility-*.journal.jsonl"))
    if found and len(journal_lines(found[0])) >= 2:
        journal = found[0]
        break
    if proc.poll() is not None:
        fail("matrix ended before its first row: %s" % proc.stdout.read().decode(errors="replace"))
    time.sleep(0.05)
if journal is None:
    proc.kill()
    fail("matrix: no row in the journal")
proc.send_signal(signal.SIGINT)
proc.wait(timeout=60)
if proc.returncode != 130:
    fail("matrix, SIGINT: exit status %d, expected 130" % proc.returncode)
rows = [e for e in journal_lines(journal)[1:] if e.get("kind") == "row"]
with open(os.path.join(out, "compatibility.json")) as f:
    written = json.load(f)["rows"]
if len(written) != len(rows) or not rows:
    fail("matrix, SIGINT: %d rows written, %d journaled" % (len(written), len(rows)))
if not os.path.exists(os.path.join(out, "compatibility.md")):
    fail("matrix, SIGINT: no compatibility.md")
print("matrix, SIGINT after %d rows: exit status 130, both files with all %d" % (len(rows), len(written)))
# matrix --resume: the rows done before are kept, the rest run, none twice.
status, text = run(["matrix", "--resume", journal, "--quiet"])
if status not in (0, 3):
    fail("matrix --resume: exit status %d\n%s" % (status, text))
keys = [e["key"] for e in journal_lines(journal)[1:] if e.get("kind") == "row"]
with open(os.path.join(out, "compatibility.json")) as f:
    final = json.load(f)["rows"]
if len(set(keys)) != len(keys) or len(final) != len(keys) or len(final) <= len(rows):
    fail("matrix --resume: %d rows journaled (%d distinct), %d written, %d before" %
         (len(keys), len(set(keys)), len(final), len(rows)))
if final[: len(rows)] != [e["row"] for e in rows]:
    fail("matrix --resume changed the rows done before")
status, text = run(["matrix", "--resume", journal, "--families", "audio"])
if status != 2 or "--families" not in text:
    fail("matrix --resume with other options: exit status %d\n%s" % (status, text))
print("matrix resumed: %d rows, the %d done before kept; other options refused" % (len(final), len(rows)))
print("interrupt and resume: ok")
