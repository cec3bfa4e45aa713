#!/usr/bin/env python3
"""Sharded suites (run --shard I/N --group NAME), their plan, the fleet job
files and scheduled runs, with a runner whose family is the test family Spin
(tests/cli/isolate_runner.cpp), which measures in a few milliseconds.

    fleet.py RUNNER WORK_DIR [VALIDATE_K8S]

1. plan --shards 4: every cell and loading benchmark in exactly one shard,
   the same plan twice, shards balanced within a factor of two.
2. Four shards started at once into one SQLite store (and, with
   ACCELBENCH_TEST_STORE_URL, into PostgreSQL): four runs of the group,
   every cell of the suite stored exactly once, by the shard the plan
   names; report --group reads the whole suite back.
3. A shard killed (SIGKILL) after two cells and one stopped (SIGTERM):
   their stored cells are kept, the other shards untouched; run again
   without --resume the shard is refused; with --resume it measures only
   what the store lacks: no gap, no duplicate, the same stored run.
4. Bad --shard and --group values are refused by name before anything runs.
5. submit slurm writes a job array script (bash -n), which run as array
   task 3 measures shard 3; submit k8s writes a manifest that the
   Kubernetes schema validates (VALIDATE_K8S); schedule writes a systemd
   service and timer (systemd-analyze verify, where present) and a crontab
   line whose command runs the suite into the store.
6. run --parallel on the cpu backend and the runner's second device
   (spin-device): the lanes run at once, each cell names the other
   device's cells that ran with it (and never one of its own device);
   without --parallel no cell has any; --parallel with --isolate refused.
Prints "fleet: ok" at the end.
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

RUNNER, WORK = sys.argv[1], sys.argv[2]
VALIDATE_K8S = sys.argv[3] if len(sys.argv) > 3 else ""
PG_URL = os.environ.get("ACCELBENCH_TEST_STORE_URL", "")
# 4 models x 6 batch sizes of about 0.05 s each, and a loading benchmark.
SUITE = {
    "name": "fleet",
    "benchmarks": [{"family": "spin", "models": ["spin-100us", "spin-200us", "spin-2ms", "spin-none"]}],
    "batch_sizes": [1, 2, 3, 4, 5, 6],
    "warmup_iterations": 1,
    "min_iterations": 2,
    "max_iterations": 100000,
    "min_time_s": 0.05,
    "max_time_s": 0.05,
    "concurrent_loading": True,
    "loading_repetitions": 1,
    "threads": 1,
}
CELLS = 24


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run(args, **kw):
    return subprocess.run([RUNNER] + args, capture_output=True, text=True, **kw)


def check(ok, message):
    if not ok:
        fail(message)


def key(cell):
    shape = ",".join(f"{k}={v}" for k, v in cell["shape"].items())
    return f'{cell["family"]}/{cell["model"]}/{cell["backend"]}/{shape}'


def plan(suite_file, shards):
    p = run(["plan", "--suite", suite_file, "--shards", str(shards), "-o", "json"])
    check(p.returncode == 0, f"plan exited with {p.returncode}: {p.stderr}")
    return json.loads(p.stdout)


def group_runs(db, group):
    with sqlite3.connect(db) as c:
        return c.execute("SELECT id, status, shard_index, shard_count, hostname, hardware_fingerprint FROM runs "
                         "WHERE run_group = ? ORDER BY shard_index", (group,)).fetchall()


def group_cells(db, group):
    with sqlite3.connect(db) as c:
        return c.execute("SELECT cells.cell_key, runs.shard_index, runs.id FROM cells JOIN runs ON runs.id = cells.run_id "
                         "WHERE runs.run_group = ?", (group,)).fetchall()


def wait_for_cells(journal_glob_dir, stem, n, proc):
    """Waits until a journal in the folder holds n cells; returns its path."""
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            fail(f"the shard ended before {n} cells: {proc.stderr.read()}")
        for name in os.listdir(journal_glob_dir) if os.path.isdir(journal_glob_dir) else []:
            if name.startswith(stem) and name.endswith(".journal.jsonl"):
                path = os.path.join(journal_glob_dir, name)
                with open(path, "rb") as f:
                    cells = sum(1 for line in f if b'"kind":"cell"' in line)
                if cells >= n:
                    return path
        time.sleep(0.01)
    fail(f"no journal with {n} cells in {journal_glob_dir}")


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    suite_file = os.path.join(WORK, "suite.json")
    with open(suite_file, "w") as f:
        json.dump(SUITE, f)

    # 1. The plan.
    p4 = plan(suite_file, 4)
    check(p4 == plan(suite_file, 4), "two plans of the same suite differ")
    cells = [u for u in p4["units"] if u["kind"] == "cell"]
    check(len(cells) == CELLS and len({u["key"] for u in cells}) == CELLS, f"the plan has {len(cells)} cells, not {CELLS}")
    check(sum(1 for u in p4["units"] if u["kind"] == "loading") == 1, "the plan lacks the loading benchmark")
    check(all(1 <= u["shard"] <= 4 for u in p4["units"]), "a unit outside shards 1..4")
    check({u["shard"] for u in cells} == {1, 2, 3, 4}, "a shard without cells")
    est = p4["estimated_s"]
    check(max(est) <= 2 * min(est), f"unbalanced shards: {est}")
    shard_of = {u["key"]: u["shard"] for u in p4["units"]}
    table = run(["plan", "--suite", suite_file, "--shards", "4"])
    check(table.returncode == 0 and "shard 4/4:" in table.stdout and "24 cells and 1 loading" in table.stdout,
          "plan's table: " + table.stdout + table.stderr)

    # 2. Four shards at once, into SQLite (and PostgreSQL).
    stores = [("sqlite", os.path.join(WORK, "fleet.db"))]
    if PG_URL:
        stores.append(("postgresql", PG_URL))
    for engine, db in stores:
        group = f"g4-{engine}-{os.getpid()}"
        out = os.path.join(WORK, "results-" + engine)
        started = time.time()
        procs = [subprocess.Popen([RUNNER, "run", "--suite", suite_file, "--group", group, "--shard", f"{i}/4",
                                   "--db", db, "--out", out, "--quiet"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for i in range(1, 5)]
        for i, proc in enumerate(procs, 1):
            o, e = proc.communicate(timeout=300)
            check(proc.returncode == 0, f"{engine}: shard {i}/4 exited with {proc.returncode}: {e}")
        seconds = time.time() - started
        report = run(["report", "--db", db, "--group", group, "-o", "json"])
        check(report.returncode == 0, f"{engine}: report --group exited with {report.returncode}: {report.stderr}")
        whole = json.loads(report.stdout)
        keys = [key(c) for c in whole["cells"]]
        check(sorted(keys) == sorted(u["key"] for u in cells),
              f"{engine}: report --group has {len(keys)} cells ({len(set(keys))} distinct), not the suite's {CELLS}")
        check(len(whole.get("loading", [])) == 1, f"{engine}: the loading benchmark is not reported once")
        if engine == "sqlite":
            runs = group_runs(db, group)
            check([(r[1], r[2], r[3]) for r in runs] == [("complete", i, 4) for i in range(1, 5)],
                  f"the group's runs: {runs}")
            check(all(r[4] and len(r[5]) == 16 for r in runs), "a run without host or hardware fingerprint")
            stored = group_cells(db, group)
            check(len(stored) == CELLS and len({k for k, _, _ in stored}) == CELLS,
                  f"{len(stored)} cells stored for {CELLS}")
            check(all(shard_of[k] == s for k, s, _ in stored), "a cell stored by a shard the plan did not give it")
        print(f"{engine}: 4 shards at once, {CELLS} cells stored once each, in {seconds:.1f} s")

    # 3. Shards killed and stopped, then resumed from the store.
    db = os.path.join(WORK, "faults.db")
    group = "faults"
    mine = {2: sorted(k for k, s in shard_of.items() if s == 2 and not k.startswith("loading/")),
            3: sorted(k for k, s in shard_of.items() if s == 3 and not k.startswith("loading/"))}
    for shard, sig in ((2, signal.SIGKILL), (3, signal.SIGTERM)):
        out = os.path.join(WORK, f"faults-{shard}")
        proc = subprocess.Popen([RUNNER, "run", "--suite", suite_file, "--group", group, "--shard", f"{shard}/4",
                                 "--db", db, "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_cells(out, f"fleet-shard{shard}of4", 2, proc)
        proc.send_signal(sig)
        proc.communicate(timeout=60)
        check(proc.returncode != 0, f"shard {shard} stopped by {sig.name} exited with 0")
    # Shard 1 runs whole meanwhile: untouched by the others' faults.
    whole1 = run(["run", "--suite", suite_file, "--group", group, "--shard", "1/4", "--db", db, "--out",
                  os.path.join(WORK, "faults-1"), "--quiet"])
    check(whole1.returncode == 0, "shard 1: " + whole1.stderr)
    before = group_cells(db, group)
    for shard in (2, 3):
        got = [k for k, s, _ in before if s == shard]
        check(len(got) >= 1 and len(got) == len(set(got)) and len(got) < len(mine[shard]),
              f"shard {shard} after its fault: {len(got)} cells stored")
    again = run(["run", "--suite", suite_file, "--group", group, "--shard", "2/4", "--db", db, "--out",
                 os.path.join(WORK, "faults-2")])
    check(again.returncode == 2 and "already in" in again.stderr and "--resume" in again.stderr,
          f"shard 2 run again without --resume: {again.returncode} {again.stderr}")
    ids_before = {s: i for _, s, i in before}
    for shard in (2, 3):
        resumed = run(["run", "--suite", suite_file, "--group", group, "--shard", f"{shard}/4", "--db", db, "--out",
                       os.path.join(WORK, f"faults-{shard}"), "--resume"])
        check(resumed.returncode == 0, f"shard {shard} --resume: {resumed.stderr}")
        check("(in the results store)" in resumed.stderr, "the resumed shard did not say it continued the store's")
    after = group_cells(db, group)
    for shard in (1, 2, 3):
        got = sorted(k for k, s, _ in after if s == shard)
        want = sorted(k for k, s in shard_of.items() if s == shard and not k.startswith("loading/"))
        check(got == want, f"shard {shard} after --resume: {len(got)} cells, {len(set(got))} distinct, {len(want)} wanted")
        check({i for _, s, i in after if s == shard} == {ids_before[shard]}, f"shard {shard} is no longer one run")
    runs = group_runs(db, group)
    check([(r[1], r[2]) for r in runs] == [("complete", 1), ("complete", 2), ("complete", 3)], f"runs: {runs}")
    print("faults: shards 2 (SIGKILL) and 3 (SIGTERM) resumed from the store: no gap, no duplicate")

    # 4. Bad values.
    for args, field in ((["--shard", "5/4", "--group", "g"], "--shard"), (["--shard", "0/4", "--group", "g"], "--shard"),
                        (["--shard", "x", "--group", "g"], "--shard"), (["--shard", "1/4"], "--group"),
                        (["--group", "a/b"], "--group"), (["--resume"], "--db")):
        bad = run(["run", "--suite", suite_file, "--out", os.path.join(WORK, "bad")] + args)
        check(bad.returncode == 2 and field in bad.stderr, f"{args}: {bad.returncode} {bad.stderr}")
    check(not os.path.exists(os.path.join(WORK, "bad")), "a refused run made its output folder")

    # 5. Job files.
    fleet_dir = os.path.join(WORK, "slurm")
    db = os.path.join(WORK, "slurm.db")
    s = run(["submit", "slurm", "--suite", suite_file, "--shards", "4", "--group", "slurm-files", "--db", db,
             "--dir", fleet_dir, "--partition", "gpu", "--constraint", "h100&ib", "--time", "01:00:00"])
    check(s.returncode == 0, "submit slurm: " + s.stderr)
    script = os.path.join(fleet_dir, "slurm-files.sbatch")
    text = open(script).read()
    for line in ("#SBATCH --array=1-4", "#SBATCH --exclusive", "#SBATCH --partition=gpu", "#SBATCH --constraint=h100&ib",
                 "#SBATCH --time=01:00:00", '--shard "${SLURM_ARRAY_TASK_ID}/4"', "--resume"):
        check(line in text, f"the sbatch script lacks {line!r}:\n{text}")
    check(subprocess.run(["bash", "-n", script]).returncode == 0, "the sbatch script is not valid bash")
    task = subprocess.run(["bash", script], env=dict(os.environ, SLURM_ARRAY_TASK_ID="3"), capture_output=True,
                          text=True)
    check(task.returncode == 0, "the sbatch script as task 3: " + task.stderr)
    stored = group_cells(db, "slurm-files")
    check(sorted(k for k, _, _ in stored) == mine[3] and {s for _, s, _ in stored} == {3},
          "the sbatch script as task 3 did not store shard 3")
    pw = run(["submit", "slurm", "--suite", suite_file, "--shards", "2", "--group", "pw", "--db",
              "postgresql://u:secret@db.example/accelbench", "--dir", fleet_dir])
    check(pw.returncode == 0 and "secret" not in open(os.path.join(fleet_dir, "pw.sbatch")).read(),
          "a store password was written into the sbatch script")

    k8s_dir = os.path.join(WORK, "k8s")
    k = run(["submit", "k8s", "--suite", suite_file, "--shards", "4", "--group", "nightly-K8s", "--image",
             "registry.example/accelbench:1", "--gpus", "1", "--node-selector", "accelerator=h100", "--dir", k8s_dir])
    check(k.returncode == 0, "submit k8s: " + k.stderr)
    manifest = os.path.join(k8s_dir, "nightly-K8s.k8s.yaml")
    if VALIDATE_K8S:
        v = subprocess.run([sys.executable, VALIDATE_K8S, manifest], capture_output=True, text=True)
        if v.returncode == 77:
            print("k8s: " + v.stdout.strip())
        else:
            check(v.returncode == 0, "the Kubernetes manifest does not validate:\n" + v.stdout + v.stderr)
            print(v.stdout.strip())
    mtext = open(manifest).read()
    for part in ('"completionMode": "Indexed"', '"completions": 4', '"topologyKey": "kubernetes.io/hostname"',
                 '"nvidia.com/gpu": 1', "JOB_COMPLETION_INDEX + 1", '"secretKeyRef"'):
        check(part in mtext, f"the manifest lacks {part}")

    sched_dir = os.path.join(WORK, "schedule")
    db = os.path.join(WORK, "nightly.db")
    t = run(["schedule", "--suite", suite_file, "--db", db, "--dir", sched_dir, "--at", "*-*-* 03:30:00"])
    check(t.returncode == 0, "schedule: " + t.stderr)
    service = os.path.join(sched_dir, "accelbench-fleet.service")
    timer = os.path.join(sched_dir, "accelbench-fleet.timer")
    check("OnCalendar=*-*-* 03:30:00" in open(timer).read(), "the timer lacks its OnCalendar")
    analyze = shutil.which("systemd-analyze")
    if analyze:
        v = subprocess.run([analyze, "verify", "--man=no", service, timer], capture_output=True, text=True)
        check(v.returncode == 0, "systemd-analyze verify: " + v.stdout + v.stderr)
        print("schedule: systemd-analyze verify accepts the service and the timer")
    c = run(["schedule", "--suite", suite_file, "--db", db, "--dir", sched_dir, "--cron", "30 3 * * *"])
    check(c.returncode == 0, "schedule --cron: " + c.stderr)
    line = open(os.path.join(sched_dir, "accelbench-fleet.crontab")).read()
    fields = line.split(" ", 5)
    check(fields[:5] == ["30", "3", "*", "*", "*"], "the crontab line's time fields: " + line)
    cron_run = subprocess.run(["sh", "-c", fields[5]], capture_output=True, text=True)
    check(cron_run.returncode == 0, "the crontab line's command: " + cron_run.stderr)
    with sqlite3.connect(db) as conn:
        n = conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
    check(n == CELLS, f"the scheduled command stored {n} cells, not {CELLS}")
    bad = run(["schedule", "--suite", suite_file, "--dir", sched_dir, "--cron", "0 2 * *"])
    check(bad.returncode == 2 and "--cron" in bad.stderr, "a four-field --cron was accepted")
    # 6. Two devices at once.
    par = os.path.join(WORK, "parallel.json")
    with open(par, "w") as f:
        json.dump(dict(SUITE, name="parallel", hardware=["cpu", "spin-device"], concurrent_loading=False), f)
    for parallel in (True, False):
        started = time.time()
        r = run(["run", "--suite", par, "--out", os.path.join(WORK, "parallel"), "-o", "json", "--quiet"] +
                (["--parallel"] if parallel else []))
        seconds = time.time() - started
        check(r.returncode == 0, f"run --parallel={parallel}: {r.returncode} {r.stderr}")
        results = json.loads(r.stdout)
        cells = results["cells"]
        check(len(cells) == 2 * CELLS and all(c["status"] == "ok" for c in cells), f"{len(cells)} cells, not all ok")
        backend_of = {key(c): c["backend"] for c in cells}
        together = [c for c in cells if c["concurrent_with"]]
        if parallel:
            check(len(together) >= CELLS, f"only {len(together)} of {2 * CELLS} cells ran with another device's")
            for c in together:
                check(all(backend_of[k] != c["backend"] for k in c["concurrent_with"]),
                      f"{key(c)} ran with a cell of its own device: {c['concurrent_with']}")
            check(any("devices measured at the same time" in w for w in results["warnings"]),
                  "the parallel run does not say so: " + str(results["warnings"]))
        else:
            check(not together, "a sequential run has cells that ran together")
        print(f"run {'--parallel' if parallel else 'sequential'}: {2 * CELLS} cells on cpu and spin-device, "
              f"{len(together)} ran with another device's, in {seconds:.1f} s")
    bad = run(["run", "--suite", par, "--parallel", "--isolate", "--out", os.path.join(WORK, "bad")])
    check(bad.returncode == 2 and "parallel" in bad.stderr, "--parallel --isolate: " + bad.stderr)
    print("fleet: ok")


main()
