"""kairos cluster on a CSV of known blobs: the pinned --json shape, the chosen k and the cluster
sizes, a fixed k, the model file, the readable table, and bad input that exits 1 with one line
naming file:line and the column."""
import json
import os
import random
import shutil
import sys
import tempfile

from kairos_proc import Checks, run

kairos = sys.argv[1]
c = Checks()
root = tempfile.mkdtemp(prefix="kairos-cluster-")


def cluster(*args):
    return run([kairos, "cluster", *args])


def one_line_error(p, words, what):
    c.check(p.returncode == 1 and p.stderr.count("\n") == 1 and all(w in p.stderr for w in words),
            f"{what}: exit {p.returncode}: {p.stderr!r}")


try:
    # Four blobs of 120, 90, 60 and 30 subscribers; the features have very different units
    # (MB, minutes, EUR), which standardization evens out. An id column is ignored.
    rng = random.Random(5)
    centres = [(500, 100, 10), (8000, 100, 10), (500, 900, 10), (8000, 900, 60)]
    spread = (300, 40, 3)
    sizes = [120, 90, 60, 30]
    csv = os.path.join(root, "subs.csv")
    with open(csv, "w") as f:
        f.write("subscriber_id,data_mb,voice_min,arpu\n")
        row = 0
        for centre, size in zip(centres, sizes):
            for _ in range(size):
                values = [f"{rng.gauss(m, s):.2f}" for m, s in zip(centre, spread)]
                if row == 7:
                    values[1] = ""  # a missing value: imputed with the column mean
                f.write(f"s{row:04d}," + ",".join(values) + "\n")
                row += 1

    p = cluster("--csv", csv, "--features", "data_mb,voice_min,arpu", "--json")
    c.eq(p.returncode, 0, "cluster the blobs: " + p.stderr)
    j = json.loads(p.stdout)
    c.eq(sorted(j), ["clusters", "features", "k", "notes", "rows", "selection"], "top-level keys")
    c.eq(j["rows"], 300, "rows")
    c.eq(j["features"], ["data_mb", "voice_min", "arpu"], "features")
    c.eq(j["k"], 4, "silhouette chooses the true k")
    c.eq([s["k"] for s in j["selection"]], list(range(2, 9)), "k tried: the default range 2..8")
    best = max(j["selection"], key=lambda s: s["silhouette"])
    c.eq(best["k"], 4, "the highest silhouette is at k = 4")
    c.eq([cl["size"] for cl in j["clusters"]], sizes, "cluster sizes, largest first")
    c.eq([cl["id"] for cl in j["clusters"]], [0, 1, 2, 3], "cluster ids")
    c.check(abs(sum(cl["share"] for cl in j["clusters"]) - 1) < 1e-9, "shares add up to 1")
    cl0 = j["clusters"][0]
    c.eq(sorted(cl0), ["centroid", "description", "id", "name", "share", "size"], "cluster keys")
    c.check(abs(cl0["centroid"]["data_mb"] - 500) < 100 and abs(cl0["centroid"]["voice_min"] - 100) < 20,
            f"centroid of the largest blob in original units: {cl0['centroid']}")
    smallest = j["clusters"][3]
    c.check("high arpu" in smallest["name"], "the smallest blob is named by its arpu: " + smallest["name"])
    c.check("high arpu (+" in smallest["description"], "description: " + smallest["description"])
    c.eq(j["notes"]["missing"]["voice_min"], 1, "the blank cell is counted as missing")

    # The same seed gives the same answer; a fixed k and a model file.
    p2 = cluster("--csv", csv, "--features", "data_mb,voice_min,arpu", "--json")
    c.eq(p2.stdout, p.stdout, "same seed, same output")
    model = os.path.join(root, "model.json")
    p = cluster("--csv", csv, "--features", "data_mb,voice_min,arpu", "--k", "3", "--seed", "9",
                "--out", model, "--json")
    c.eq(p.returncode, 0, "--k 3: " + p.stderr)
    j = json.loads(p.stdout)
    c.eq((j["k"], len(j["selection"]), len(j["clusters"])), (3, 1, 3), "--k 3")
    m = json.load(open(model))
    c.eq((m["format"], m["version"], m["k"], m["features"]),
         ("kairos.kmeans", 1, 3, ["data_mb", "voice_min", "arpu"]), "the model file")
    c.eq(len(m["centroids"]), 3, "three centroids in the model file")

    p = cluster("--csv", csv, "--features", "data_mb,voice_min", "--k-range", "2..5")
    c.eq(p.returncode, 0, "readable output: " + p.stderr)
    c.check("<- chosen" in p.stdout and "centroids (original units)" in p.stdout and "silhouette" in p.stdout,
            "readable output shows the selection and the centroids:\n" + p.stdout)

    # Bad input.
    bad = os.path.join(root, "bad.csv")
    with open(bad, "w") as f:
        f.write("a,b\n1,2\n3,x4\n")
    one_line_error(cluster("--csv", bad, "--features", "a,b"), [f"{bad}:3", '"b"', "x4"],
                   "a non-numeric cell names file:line and the column")
    one_line_error(cluster("--csv", csv, "--features", "data_mb,tickets"), ['"tickets"'],
                   "a missing column is named")
    one_line_error(cluster("--csv", csv, "--features", "data_mb", "--k-range", "6..3"),
                   ["k_min (6) is larger than k_max (3)"], "an inverted k range")
    one_line_error(cluster("--csv", csv, "--features", "data_mb", "--k-range", "two-eight"),
                   ["--k-range", "2..8"], "a malformed k range")
    few = os.path.join(root, "few.csv")
    with open(few, "w") as f:
        f.write("a,b\n" + "1,1\n2,2\n3,3\n" * 5)
    one_line_error(cluster("--csv", few, "--features", "a,b", "--k", "4"),
                   ["k = 4", "3 distinct rows"], "k above the distinct rows")
    blank = os.path.join(root, "blank.csv")
    with open(blank, "w") as f:
        f.write("a,b\n1,\n2,\n3,\n")
    one_line_error(cluster("--csv", blank, "--features", "a,b"), ['"b" has no value'], "an all-missing column")
    one_line_error(cluster("--csv", os.path.join(root, "none.csv"), "--features", "a"), ["none.csv"],
                   "an unreadable file")
    one_line_error(cluster("--csv", csv, "--features", "data_mb", "--criterion", "gap"),
                   ["--criterion"], "an unknown criterion")
finally:
    shutil.rmtree(root, ignore_errors=True)
c.finish()
