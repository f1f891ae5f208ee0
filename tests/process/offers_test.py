"""kairos offers: invoice-batch on a generated demo operator (every subscriber gets a manifest line;
offers have a PNG that zbarimg decodes to the line's URL and an SVG; the QR folders are sharded;
--dry-run records nothing, a recorded run shows up in the decision log), and the signing keys
(rotate-key prints only the new kid; retire-key; the key file's mode and errors)."""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

from kairos_proc import Checks, run

kairos = sys.argv[1]
c = Checks()
root = tempfile.mkdtemp(prefix="kairos-proc-offers-")
try:
    ws = os.path.join(root, "ws")
    run([kairos, "init", ws, "--demo"], check=True)
    gen = os.path.join(root, "gen")
    run([kairos, "generate", "--out", gen, "--subscribers", "300", "--days", "20", "--seed", "5",
         "--end", "2026-01-31"], check=True)
    run([kairos, "ingest", "--workspace", ws, os.path.join(gen, "events.ndjson")], check=True)
    at = "2026-01-31T10:00:00Z"
    base = "https://offers.example-operator.eu"

    # Dry run: a line per subscriber, nothing recorded.
    out = os.path.join(root, "out-dry")
    p = run([kairos, "offers", "invoice-batch", "--workspace", ws, "--out", out, "--at", at,
             "--base-url", base, "--expires-in", "30d", "--dry-run", "--json"])
    c.eq(p.returncode, 0, "invoice-batch --dry-run: " + p.stderr)
    r = json.loads(p.stdout)
    c.eq(r["subscribers"], 300, "every subscriber")
    c.eq(r["offers"] + r["no_action"], 300, "offers + no action = subscribers")
    c.eq(r["errors"], 0, "no errors")
    c.eq(r["recorded"], False, "dry run records nothing")
    c.check(r["offers"] > 0, f"some invoice offers: {r}")
    with open(os.path.join(out, "manifest.ndjson")) as f:
        lines = [json.loads(x) for x in f]
    c.eq(len(lines), 300, "one manifest line per subscriber")
    c.eq(len({x["subscriber_id"] for x in lines}), 300, "each subscriber once")
    offers = [x for x in lines if x["action_id"] is not None]
    none = [x for x in lines if x["action_id"] is None]
    c.eq(len(offers), r["offers"], "manifest offers match the summary")
    c.check(all(x.get("reason") for x in none), "no-action lines say why")
    c.check(all("decision_id" not in x for x in lines), "a dry run has no decision ids")
    for x in offers:
        c.check(x["url"] == base + "/o/" + x["token"], "url = base + /o/ + token")
        c.check(x["treatment"] == x["action_id"] + "/invoice", "the invoice treatment: " + x["treatment"])
        c.check(x["png"].startswith("qr/") and len(x["png"].split("/")[1]) == 2, "sharded: " + x["png"])
        c.check(os.path.exists(os.path.join(out, x["png"])), "PNG written: " + x["png"])
        c.check(os.path.exists(os.path.join(out, x["svg"])), "SVG written: " + x["svg"])
    if offers and shutil.which("zbarimg"):
        for x in offers[:5]:
            z = subprocess.run(["zbarimg", "--raw", "-q", os.path.join(out, x["png"])],
                               capture_output=True, text=True)
            c.eq(z.stdout.strip(), x["url"], "zbarimg reads the link back")
    if offers:
        with open(os.path.join(out, offers[0]["svg"])) as f:
            svg = f.read()
        c.check(svg.startswith("<svg") and svg.count("<path") == 1, "SVG with one path")
    shards = os.listdir(os.path.join(out, "qr"))
    c.eq(len(shards), 256, "256 shard folders")
    keys = os.path.join(ws, "offer-keys.json")
    c.check(os.path.exists(keys), "offer-keys.json created on first use")
    c.eq(stat.S_IMODE(os.stat(keys).st_mode), 0o600, "offer-keys.json is 0600")

    applied = {}
    for x in lines:
        p = run([kairos, "profile", "--workspace", ws, x["subscriber_id"], "--at", at])
        applied[x["subscriber_id"]] = json.loads(p.stdout)["events_applied"]

    # Recorded: the decisions are in the log (decision ids in the manifest).
    out2 = os.path.join(root, "out-rec")
    p = run([kairos, "offers", "invoice-batch", "--workspace", ws, "--out", out2, "--at", at,
             "--base-url", base, "--limit", "50", "--json"])
    c.eq(p.returncode, 0, "recorded invoice-batch: " + p.stderr)
    r = json.loads(p.stdout)
    c.eq(r["subscribers"], 50, "--limit 50")
    c.eq(r["recorded"], True, "recorded")
    with open(os.path.join(out2, "manifest.ndjson")) as f:
        rec = [json.loads(x) for x in f]
    c.eq(len(rec), 50, "50 lines")
    c.check(all(x.get("decision_id") for x in rec if x["action_id"] is not None or x.get("reason") != "error"),
            "recorded decisions have ids")
    # A recorded decision is an applied event of the subscriber's profile; a dry run is not.
    for x in rec[:10]:
        p = run([kairos, "profile", "--workspace", ws, x["subscriber_id"], "--at", at])
        c.eq(json.loads(p.stdout)["events_applied"], applied[x["subscriber_id"]] + 1,
             "the recorded decision was applied to " + x["subscriber_id"])

    # Keys: rotate prints only the kid; retire; errors.
    with open(keys) as f:
        before = json.load(f)
    p = run([kairos, "offers", "rotate-key", "--workspace", ws])
    c.eq(p.returncode, 0, "rotate-key: " + p.stderr)
    c.eq(p.stdout.strip(), "k2", "prints the new kid")
    for k in before["keys"]:
        c.check(k["secret"] not in p.stdout + p.stderr, "no secret printed")
    with open(keys) as f:
        after = json.load(f)
    status = {k["kid"]: k["status"] for k in after["keys"]}
    c.eq(status, {"k1": "verify", "k2": "active"}, "k1 verifies, k2 signs")
    c.eq(stat.S_IMODE(os.stat(keys).st_mode), 0o600, "still 0600 after rotation")
    p = run([kairos, "offers", "retire-key", "--workspace", ws, "--kid", "k2", "--json"])
    c.eq(p.returncode, 1, "retiring the active key is refused")
    c.check("rotate first" in p.stderr, p.stderr)
    p = run([kairos, "offers", "retire-key", "--workspace", ws, "--kid", "k1", "--json"])
    c.eq(p.returncode, 0, "retire k1: " + p.stderr)
    c.eq(json.loads(p.stdout), {"kid": "k1", "status": "retired"}, "retire --json")
    p = run([kairos, "offers", "retire-key", "--workspace", ws, "--kid", "k9"])
    c.eq(p.returncode, 1, "unknown kid")
    c.check("k9" in p.stderr and "k1, k2" in p.stderr, p.stderr)

    # Bad arguments.
    p = run([kairos, "offers", "invoice-batch", "--workspace", ws, "--out", os.path.join(root, "o4"),
             "--expires-in", "400d", "--dry-run"])
    c.eq(p.returncode, 1, "--expires-in 400d refused")
    c.check("--expires-in" in p.stderr, p.stderr)
    p = run([kairos, "offers", "invoice-batch", "--workspace", ws, "--out", os.path.join(root, "o5"),
             "--base-url", "ftp://x", "--dry-run"])
    c.eq(p.returncode, 1, "bad --base-url refused")
    c.check("--base-url" in p.stderr, p.stderr)
    # A broken key file is named and left alone.
    with open(keys, "w") as f:
        f.write('{"keys":[{"kid":"k1","status":"active"}]}')
    p = run([kairos, "offers", "invoice-batch", "--workspace", ws, "--out", os.path.join(root, "o3"),
             "--at", at, "--dry-run"])
    c.eq(p.returncode, 1, "bad key file fails the batch")
    c.check("offer-keys.json: /keys/0/secret: missing" in p.stderr, p.stderr)
    p = run([kairos, "offers", "rotate-key", "--workspace", ws])
    c.eq(p.returncode, 1, "rotate on a bad key file fails")
    with open(keys) as f:
        c.eq(f.read(), '{"keys":[{"kid":"k1","status":"active"}]}', "the bad file is not overwritten")

finally:
    shutil.rmtree(root, ignore_errors=True)
c.finish()
