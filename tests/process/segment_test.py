"""kairos segment on a generated operator: the report's shape and sums; a churn model trained
from the workspace (a past run's feature snapshot, labelled by who left after it) and then
scored; scores in the profiles (GET /v1/subscribers/{id}); GET /v1/segments from serve; the
errors: a bad or missing segments.yaml."""
import json
import os
import sys

from kairos_proc import Checks, Server, Workspace, run

kairos = sys.argv[1]
c = Checks()
ws = Workspace(kairos)
try:
    gen = os.path.join(ws.root, "gen")
    run([kairos, "generate", "--out", gen, "--subscribers", "1500", "--days", "40", "--seed", "7",
         "--end", "2026-01-31"], check=True)
    # History up to Jan 1 first: a segmentation run then keeps the churn features as of Jan 1.
    before, after = os.path.join(ws.root, "before.ndjson"), os.path.join(ws.root, "after.ndjson")
    with open(os.path.join(gen, "events.ndjson")) as src, open(before, "w") as b, open(after, "w") as a:
        for line in src:
            i = line.find('"ts":"')
            (b if line[i + 6:i + 16] < "2026-01-01" else a).write(line)
    run([kairos, "ingest", "--workspace", ws.dir, before], check=True)
    p = run([kairos, "segment", "--workspace", ws.dir, "--at", "2026-01-01T00:00:00Z", "--json"])
    c.eq(p.returncode, 0, "segment on Jan 1: " + p.stderr)
    p = run([kairos, "churn", "train", "--workspace", ws.dir, "--at", "2026-01-15T00:00:00Z"])
    c.eq(p.returncode, 1, "no snapshot a horizon old yet")
    c.check("old enough from 2026-01-31" in p.stderr, p.stderr)
    run([kairos, "ingest", "--workspace", ws.dir, after], check=True)
    # A month later: who left within 30 days of the snapshot is the label.
    p = run([kairos, "churn", "train", "--workspace", ws.dir, "--at", "2026-01-31T12:00:00Z", "--folds", "3", "--json"])
    c.eq(p.returncode, 0, "churn train from the workspace: " + p.stderr)
    t = json.loads(p.stdout)
    c.check(t["rows"] > 1000 and t["positives"] > 0, f"rows {t['rows']}, positives {t['positives']}")
    c.eq(t["model"], os.path.join(ws.dir, "churn-model.json"), "the model goes where segments.yaml says")
    c.check(os.path.exists(t["model"]), "model written")

    p = run([kairos, "segment", "--workspace", ws.dir, "--at", "2026-02-01T00:00:00Z", "--json"])
    c.eq(p.returncode, 0, "segment: " + p.stderr)
    r = json.loads(p.stdout)
    c.eq(r["subscribers"], 1500, "every subscriber segmented")
    c.eq(r["written"], 1500, "every profile written")
    tiers = r["value_tiers"]
    c.eq(sum(t["subscribers"] for t in tiers.values()), 1500, "tiers partition the subscribers")
    c.check(abs(sum(t["margin_share"] for t in tiers.values()) - 1) < 1e-3, "margin shares add up to 1")
    c.check("protect" in tiers and "develop" in tiers, f"tiers named as configured: {sorted(tiers)}")
    # With quantile thresholds, protect (top fifth by margin, low effort) holds at most 20 %.
    c.check(tiers["protect"]["share"] <= 0.2001, f"protect share {tiers['protect']['share']}")
    c.check(tiers["protect"]["margin_share"] > tiers["protect"]["share"], "protect carries more margin than its share")
    for dim in ("behaviour", "buyer", "usage", "rfm"):
        c.eq(sum(s["subscribers"] for s in r[dim].values()), 1500, dim + " partitions the subscribers")
    cl = r["clusters"]["clusters"]
    c.check(2 <= len(cl) <= 8, f"k within 2..8: {len(cl)}")
    c.eq(sum(x["figures"]["subscribers"] for x in cl), 1500, "clusters partition the subscribers")
    c.check(all(x["name"] and x["description"] for x in cl), "clusters described")
    c.eq(r["clv"]["status"], "fitted", "CLV fitted: " + r["clv"]["status"])
    c.check(r["clv"]["bgnbd"]["r"] > 0 and r["clv"]["gamma_gamma"]["q"] > 0, "CLV parameters positive")
    c.eq(r["churn"]["status"], "scored", "churn scored with the trained model")
    c.eq(r["churn"]["scored"], 1500, "everyone has a churn score")
    c.check(0 < r["churn"]["mean"] < 0.5, f"mean churn score {r['churn']['mean']}")

    # Plain output names the tiers.
    p = run([kairos, "segment", "--workspace", ws.dir, "--at", "2026-02-01T00:00:00Z"])
    c.eq(p.returncode, 0, "segment (text): " + p.stderr)
    c.check("value tier" in p.stdout and "protect" in p.stdout, "text report")

    srv = Server(kairos, ws.dir)
    try:
        srv.wait_ready()
        status, body = srv.get("/v1/segments")
        c.eq(status, 200, "GET /v1/segments")
        c.eq(json.loads(body)["subscribers"], 1500, "the served report is the last run")
        prof = srv.profile("s0000001")
        c.check(prof is not None and prof["scores"] is not None, "the subscriber view has scores")
        sc = prof["scores"]
        c.check(sc["segment.value_tier"] in tiers, "value tier in the profile: " + str(sc["segment.value_tier"]))
        c.check(1 <= sc["rfm.recency"] <= 5 and len(sc["rfm.code"]) == 3, "RFM in the profile")
        c.check(sc["segment.cluster_name"], "cluster in the profile")
        c.check(0 <= sc["score.churn"] <= 1 and ":" in sc["score.churn_drivers"], "churn risk with drivers")
    finally:
        srv.stop()

    # The store is locked while serve runs; after it stops the job runs again.
    p = run([kairos, "segment", "--workspace", ws.dir, "--at", "2026-02-01T00:00:00Z", "--json"])
    c.eq(p.returncode, 0, "segment after serve stopped: " + p.stderr)

    # Errors: a bad segments.yaml names file:line; no segments.yaml says so.
    seg = os.path.join(ws.dir, "segments.yaml")
    good = open(seg).read()
    with open(seg, "w") as f:
        f.write("value:\n  revenue: \"agg.nope(30d)\"\n")
    p = run([kairos, "segment", "--workspace", ws.dir])
    c.eq(p.returncode, 1, "bad segments.yaml exits 1")
    c.check("segments.yaml:2:" in p.stderr, "file:line in: " + p.stderr)
    p = run([kairos, "check", "--workspace", ws.dir])
    c.eq(p.returncode, 1, "kairos check sees the bad segments.yaml")
    os.remove(seg)
    p = run([kairos, "segment", "--workspace", ws.dir])
    c.eq(p.returncode, 1, "no segments.yaml exits 1")
    c.check("no segments.yaml" in p.stderr, p.stderr)
    with open(seg, "w") as f:
        f.write(good)
finally:
    ws.cleanup()
c.finish()
