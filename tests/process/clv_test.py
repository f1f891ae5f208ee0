"""kairos clv fit on the CDNOW files: the pinned --json shape, the published BG/NBD estimates on
the 1/10 sample, the master file, a CSV with named columns, and bad input that exits 1 with one
line naming file:line."""
import json
import os
import shutil
import sys
import tempfile

from kairos_proc import Checks, run

kairos = sys.argv[1]
c = Checks()
root = tempfile.mkdtemp(prefix="kairos-clv-")
cdnow = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "cdnow")
sample = os.path.join(cdnow, "CDNOW_sample.txt")
if not os.path.exists(sample):
    print(f"SKIP: {sample} missing")
    raise SystemExit(0)


def clv(*args):
    return run([kairos, "clv", "fit", *args])


try:
    p = clv("--transactions", sample, "--format", "cdnow", "--calibration-end", "1997-09-30", "--json")
    c.eq(p.returncode, 0, "fit on the sample: " + p.stderr)
    j = json.loads(p.stdout)
    c.eq((j["customers"], j["repeaters"]), (2357, 946), "customers and repeaters")
    c.eq(sorted(j["bgnbd"]), ["a", "alpha", "b", "log_likelihood", "r"], "bgnbd keys")
    c.eq(sorted(j["pareto_nbd"]), ["alpha", "beta", "log_likelihood", "r", "s"], "pareto_nbd keys")
    c.eq(sorted(j["gamma_gamma"]), ["gamma", "log_likelihood", "p", "q"], "gamma_gamma keys")
    # Fader, Hardie & Lee (2005), to the 3 significant digits the issue asks for.
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4}
    for k, v in published.items():
        c.eq(f"{j['bgnbd'][k]:.3g}", f"{v:.3g}", f"BG/NBD {k} {j['bgnbd'][k]} vs published {v}")

    p = clv("--transactions", os.path.join(cdnow, "CDNOW_master.txt"), "--format", "cdnow",
            "--calibration-end", "1997-09-30", "--json")
    c.eq(p.returncode, 0, "fit on the master file: " + p.stderr)
    c.eq(json.loads(p.stdout)["customers"], 23570, "the master file's customers")

    csv = os.path.join(root, "tx.csv")
    with open(csv, "w") as f:
        f.write("client,day,eur\n")
        for i in range(60):
            f.write(f"c{i},2026-01-0{1 + i % 5},{10 + i % 7}\n")
            if i % 3 == 0:
                f.write(f"c{i},2026-02-1{i % 9},{12 + i % 4}\n")
                f.write(f"c{i},2026-03-2{i % 7},{9 + i % 5}\n")
    p = clv("--transactions", csv, "--format", "csv", "--id-column", "client", "--date-column", "day",
            "--amount-column", "eur", "--json")
    c.eq(p.returncode, 0, "a CSV with named columns: " + p.stderr)
    c.eq(json.loads(p.stdout)["repeaters"], 20, "repeaters in the CSV")

    bad = os.path.join(root, "bad.txt")
    open(bad, "w").write("00001 19970101 1 29.33\n00001 1997013 1 10\n")
    p = clv("--transactions", bad, "--format", "cdnow")
    c.check(p.returncode == 1 and f"{bad}:2" in p.stderr and p.stderr.count("\n") == 1,
            "a bad date names file:line: " + p.stderr)
    p = clv("--transactions", csv, "--format", "csv")
    c.check(p.returncode == 1 and "customer_id" in p.stderr, "a missing CSV column is named: " + p.stderr)
    p = clv("--transactions", sample, "--format", "xml")
    c.check(p.returncode == 1 and "cdnow or csv" in p.stderr, "an unknown format: " + p.stderr)
finally:
    shutil.rmtree(root, ignore_errors=True)
c.finish()
