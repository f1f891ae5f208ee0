"""kairos ope on real files: the Open Bandit Dataset sample (uniform, topk and dist policies,
--json shape, determinism), the Kairos NDJSON format, and errors that exit 1 with one line."""
import json
import os
import shutil
import sys
import tempfile

from kairos_proc import Checks, run

kairos = sys.argv[1]
c = Checks()
root = tempfile.mkdtemp(prefix="kairos-ope-")
obd = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "obd")
men = os.path.join(obd, "random", "men", "men.csv")
if not os.path.exists(men):
    print(f"SKIP: {men} missing")
    raise SystemExit(0)


def ope(*args):
    return run([kairos, "ope", *args])


def one_line_error(p, needle, what):
    c.eq(p.returncode, 1, f"{what}: exit code")
    c.check(p.stdout == "" and p.stderr.count("\n") == 1 and needle in p.stderr, f"{what}: one line naming {needle!r}: {p.stderr!r}")


# Uniform on the uniform-random log: every weight is 1, so IPS is exactly the logged mean (46/10000).
p = ope("--format", "obd", "--log", men, "--policy", "uniform", "--json")
c.eq(p.returncode, 0, f"uniform: {p.stderr}")
j = json.loads(p.stdout)
c.eq((j["n"], j["on_policy"]), (10000, 0.0046), "n and on_policy")
c.eq(j["estimates"]["ips"]["value"], j["on_policy"], "uniform IPS == on-policy mean")
c.eq(j["estimates"]["snips"]["value"], j["on_policy"], "uniform SNIPS == on-policy mean")
c.eq(sorted(j["estimates"]), ["dm", "dr", "ips", "snips"], "four estimators")
for name, e in j["estimates"].items():
    lo, hi = e["ci95"]
    c.check(0 <= lo <= e["value"] <= hi <= 1, f"{name} interval around its value: {e}")
    c.check(abs(e["value"] - 0.0046) < 0.001, f"{name} near the logged mean: {e}")
# Same seed, same bytes; --bootstrap 0: intervals are null.
c.eq(ope("--format", "obd", "--log", men, "--policy", "uniform", "--json").stdout, p.stdout, "deterministic")
p2 = ope("--format", "obd", "--log", men, "--policy", "uniform", "--json", "--seed", "2")
c.check(json.loads(p2.stdout)["estimates"]["dm"]["ci95"] != j["estimates"]["dm"]["ci95"], "another seed, other intervals")
p = ope("--format", "obd", "--log", men, "--policy", "uniform", "--json", "--bootstrap", "0")
c.check(all(e["ci95"] is None for e in json.loads(p.stdout)["estimates"].values()), "--bootstrap 0: ci95 null")

# topk: a deterministic ranking; its IPS is 34 x (clicks of the listed items at their positions) / n.
rows = [l.split(",") for l in open(men).read().splitlines()[1:]]
clicked = [(int(r[2]), int(r[3])) for r in rows if r[4] == "1"]
top = [item for item, pos in clicked if pos == 1][:1] + [item for item, pos in clicked if pos == 2][:1]
expect = 34 * sum(1 for item, pos in clicked if pos <= 2 and item == top[pos - 1]) / 10000
p = ope("--format", "obd", "--log", men, "--policy", f"topk:{top[0]},{top[1]}", "--json")
c.eq(p.returncode, 0, f"topk: {p.stderr}")
c.check(abs(json.loads(p.stdout)["estimates"]["ips"]["value"] - expect) < 1e-12, f"topk IPS {expect}: {p.stdout}")
p = ope("--format", "obd", "--log", men, "--policy", f"topk:{top[0]},{top[1]}")
c.check(p.returncode == 0 and "ips" in p.stdout and "on-policy" in p.stdout and "95% interval" in p.stdout, f"table: {p.stdout}")

# dist from a temp CSV: half mass on item top[0] at position 1 → IPS is half of topk:top[0]'s.
dist = os.path.join(root, "dist.csv")
open(dist, "w").write(f"item,position,probability\n{top[0]},1,0.5\n")
p = ope("--format", "obd", "--log", men, "--policy", f"dist:{dist}", "--json", "--bootstrap", "0")
one = ope("--format", "obd", "--log", men, "--policy", f"topk:{top[0]}", "--json", "--bootstrap", "0")
c.eq(p.returncode, 0, f"dist: {p.stderr}")
c.check(abs(json.loads(p.stdout)["estimates"]["ips"]["value"] * 2 - json.loads(one.stdout)["estimates"]["ips"]["value"]) < 1e-12,
        "dist 0.5 = half of topk")

# Kairos NDJSON log.
nd = os.path.join(root, "log.ndjson")
open(nd, "w").write(
    '{"decision_id":"d1","action_id":"DATA_5GB","position":1,"propensity":0.5,"reward":1}\n'
    '{"decision_id":"d2","action_id":"ROAM_EU","propensity":0.5,"reward":0}\n')
p = ope("--format", "kairos", "--log", nd, "--policy", "topk:DATA_5GB", "--json")
c.eq(p.returncode, 0, f"kairos format: {p.stderr}")
c.eq(json.loads(p.stdout)["estimates"]["ips"]["value"], 1.0, "kairos IPS (1/0.5)/2")

# Errors: one line on stderr, exit 1.
one_line_error(ope("--format", "obd", "--log", os.path.join(root, "missing.csv"), "--policy", "uniform"), "cannot open", "missing file")
one_line_error(ope("--format", "obd", "--log", men, "--policy", "best"), "unknown policy", "bad policy string")
one_line_error(ope("--format", "obd", "--log", men, "--policy", "topk:99"), 'unknown item "99"', "unknown topk item")
one_line_error(ope("--format", "csv", "--log", men, "--policy", "uniform"), "--format", "bad format")
bad_dist = os.path.join(root, "bad_dist.csv")
open(bad_dist, "w").write("item,position,probability\n1,1,0.5\n2,1,1.5\n")
one_line_error(ope("--format", "obd", "--log", men, "--policy", f"dist:{bad_dist}"), f"{bad_dist}:3:", "dist probability > 1")
zero = os.path.join(root, "zero.csv")
lines = open(men).read().splitlines()
cols = lines[5].split(",")
cols[5] = "0"
lines[5] = ",".join(cols)
open(zero, "w").write("\n".join(lines) + "\n")
one_line_error(ope("--format", "obd", "--log", zero, "--policy", "uniform"), f"{zero}:6: propensity", "zero propensity")
trunc = os.path.join(root, "trunc.csv")
open(trunc, "w").write("\n".join(lines[:4]) + "\n" + lines[4][:40])
one_line_error(ope("--format", "obd", "--log", trunc, "--policy", "uniform"), f"{trunc}:5:", "truncated last line")
empty = os.path.join(root, "empty.csv")
open(empty, "w").write(lines[0] + "\n")
one_line_error(ope("--format", "obd", "--log", empty, "--policy", "uniform"), "empty log", "empty log")

shutil.rmtree(root, ignore_errors=True)
c.finish()
