#!/usr/bin/env python3
"""A sharded suite on a real single-node Slurm cluster (Debian's slurm-wlm and
munge, brought up by tests/fleet/slurm_cluster.sh in WORK_DIR), stored into
the results store at STORE_URL (PostgreSQL's test server).

    slurm_fleet.py RUNNER WORK_DIR STORE_URL

1. accelbench submit slurm --shards 4 --submit --wait: four array tasks,
   each on the node exclusively; every cell of the suite is stored exactly
   once, by the shard the plan names, the four runs complete, and
   accelbench report --group reports the whole suite.
2. A second job: array task 2 is cancelled (scancel) while it measures;
   its completed cells stay stored, the other shards are whole. Submitted
   again as array task 2 (sbatch --array=2), it measures only what the
   store lacks: no gap, no duplicate.
Prints the cluster's and the jobs' timings, then "slurm fleet: ok".
Exits 77 ("skipped: ...") when no Slurm cluster can be brought up here.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

RUNNER, WORK, STORE = sys.argv[1], sys.argv[2], sys.argv[3]
HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER = os.path.join(HERE, "slurm_cluster.sh")
SUITE = {
    "name": "slurm",
    "benchmarks": [{"family": "embedding", "models": ["bert-tiny"]},
                   {"family": "text-generation", "models": ["llama-tiny"]}],
    "hardware": ["cpu"],
    "batch_sizes": [1, 2, 4],
    "sequence_lengths": [16, 32, 64],
    "prompt_lengths": [8, 16],
    "new_tokens": [4],
    "warmup_iterations": 1,
    "min_iterations": 3,
    "min_time_s": 0.4,
    "max_time_s": 0.4,
    "threads": 1,
}


def fail(message):
    print("FAIL: " + message)
    sys.stdout.flush()
    sys.exit(1)


def check(ok, message):
    if not ok:
        fail(message)


def key(cell):
    shape = ",".join(f"{k}={v}" for k, v in cell["shape"].items())
    return f'{cell["family"]}/{cell["model"]}/{cell["backend"]}/{shape}'


def accelbench(args, **kw):
    return subprocess.run([RUNNER] + args, capture_output=True, text=True, **kw)


def stored_keys(group):
    r = accelbench(["report", "--db", STORE, "--group", group, "-o", "json"])
    check(r.returncode == 0, f"report --group {group}: {r.stderr}")
    return [key(c) for c in json.loads(r.stdout)["cells"]]


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    cluster = os.path.join(WORK, "cluster")
    started = time.time()
    up = subprocess.run(["sh", CLUSTER, "start", cluster], capture_output=True, text=True)
    if up.returncode == 77:
        print(up.stdout.strip() or "skipped: no Slurm cluster")
        sys.exit(77)
    env = dict(os.environ)
    for name, value in re.findall(r"export (\w+)='?([^'\n]*)'?", up.stdout):
        env[name] = value
    try:
        check(up.returncode == 0, f"the Slurm cluster did not start:\n{up.stdout}\n{up.stderr}")
        print(f"cluster: up in {time.time() - started:.1f} s")
        print(subprocess.run(["sinfo"], env=env, capture_output=True, text=True).stdout.strip())
        run_jobs(env)
    finally:
        subprocess.run(["sh", CLUSTER, "stop", cluster], capture_output=True, text=True)


def run_jobs(env):
    suite = os.path.join(WORK, "suite.json")
    with open(suite, "w") as f:
        json.dump(SUITE, f)
    plan = accelbench(["plan", "--suite", suite, "--shards", "4", "-o", "json"])
    check(plan.returncode == 0, "plan: " + plan.stderr)
    units = json.loads(plan.stdout)["units"]
    cells = sorted(u["key"] for u in units if u["kind"] == "cell")
    shard_cells = {s: sorted(u["key"] for u in units if u["kind"] == "cell" and u["shard"] == s) for s in range(1, 5)}
    check(all(shard_cells.values()), f"a shard without cells: {shard_cells}")
    jobs = os.path.join(WORK, "jobs")
    group = f"slurm-{os.getpid()}"

    # 1. The whole suite, four shards.
    started = time.time()
    sub = subprocess.run([RUNNER, "submit", "slurm", "--suite", suite, "--shards", "4", "--group", group, "--db", STORE,
                          "--dir", jobs, "--partition", "accelbench", "--time", "00:10:00", "--submit", "--wait"],
                         env=env, capture_output=True, text=True, timeout=600)
    seconds = time.time() - started
    print(sub.stdout.strip())
    logs = "".join(open(os.path.join(jobs, n)).read() for n in sorted(os.listdir(jobs)) if n.endswith(".log"))
    check(sub.returncode == 0, f"submit slurm --submit --wait: {sub.returncode}\n{sub.stderr}\n{logs}")
    got = stored_keys(group)
    check(sorted(got) == cells, f"the store has {len(got)} cells ({len(set(got))} distinct) of the suite's {len(cells)}")
    runs = subprocess.run(["psql", STORE, "-Atc", "SELECT shard_index, shard_count, status FROM runs WHERE run_group = "
                           f"'{group}' ORDER BY shard_index"], capture_output=True, text=True)
    if runs.returncode == 0:
        check(runs.stdout.split() == [f"{i}|4|complete" for i in range(1, 5)], "the group's runs:\n" + runs.stdout)
    print(f"job array of 4 shards: {len(cells)} cells stored once each in {seconds:.1f} s (submit to the last shard's end)")

    # 2. A cancelled shard, submitted again.
    group2 = group + "-cancel"
    results = os.path.join(jobs, "results")
    earlier = set(os.listdir(results))
    sub = subprocess.run([RUNNER, "submit", "slurm", "--suite", suite, "--shards", "4", "--group", group2, "--db", STORE,
                          "--dir", jobs, "--partition", "accelbench", "--submit"], env=env, capture_output=True,
                         text=True, timeout=120)
    check(sub.returncode == 0, "submit slurm --submit: " + sub.stderr)
    job = re.findall(r"^(\d+)", sub.stdout, re.M)
    check(job, "no job id in: " + sub.stdout)
    job = job[-1]
    deadline = time.time() + 300
    journal = None
    while time.time() < deadline and journal is None:
        for name in os.listdir(results) if os.path.isdir(results) else []:
            if name.startswith("slurm-shard2of4") and name.endswith(".journal.jsonl") and name not in earlier:
                with open(os.path.join(results, name), "rb") as f:
                    if sum(1 for line in f if b'"kind":"cell"' in line) >= 1:
                        journal = name
        time.sleep(0.05)
    check(journal, "array task 2 measured no cell in 300 s")
    subprocess.run(["scancel", f"{job}_2"], env=env, check=True)
    deadline = time.time() + 300
    while time.time() < deadline:
        q = subprocess.run(["squeue", "-h", "-j", job], env=env, capture_output=True, text=True)
        if not q.stdout.strip():
            break
        time.sleep(0.5)
    check(time.time() < deadline, "the job did not end")
    got = stored_keys(group2)
    check(len(got) == len(set(got)), "a duplicate after the cancel")
    for s in (1, 3, 4):
        check(all(k in got for k in shard_cells[s]), f"shard {s} is not whole after shard 2 was cancelled")
    kept = [k for k in got if k in shard_cells[2]]
    check(1 <= len(kept) < len(shard_cells[2]), f"shard 2 kept {len(kept)} of {len(shard_cells[2])} cells")
    print(f"cancelled shard 2: {len(kept)} of its {len(shard_cells[2])} cells stored, the other shards whole")
    again = subprocess.run(["sbatch", "--wait", "--array=2", os.path.join(jobs, group2 + ".sbatch")], env=env,
                           capture_output=True, text=True, timeout=600)
    check(again.returncode == 0, "sbatch --array=2 again: " + again.stderr)
    got = stored_keys(group2)
    check(sorted(got) == cells, f"after the rerun: {len(got)} cells ({len(set(got))} distinct) of {len(cells)}")
    print("shard 2 submitted again: no gap, no duplicate")
    print("slurm fleet: ok")


main()
