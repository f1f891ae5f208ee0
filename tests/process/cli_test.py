"""The kairos command line on real files: init/check errors with file:line:column, generate
determinism, ingest summaries, reject files, gzip (also truncated), idempotent re-ingest."""
import filecmp
import gzip
import json
import os
import sys

from kairos_proc import Checks, Workspace, run

kairos = sys.argv[1]
c = Checks()
ws = Workspace(kairos)

# init refuses to overwrite; check passes on the fresh workspace.
p = run([kairos, "init", ws.dir])
c.check(p.returncode != 0 and "already exists" in p.stderr, "init refuses to overwrite")
p = run([kairos, "check", "--workspace", ws.dir])
c.eq(p.returncode, 0, "check on a fresh workspace")

# A broken schema: file:line:column: message, exit 1, and serve refuses to start.
schema = os.path.join(ws.dir, "schema.yaml")
good_schema = open(schema).read()
lines = good_schema.split("\n")
bad_line = next(i for i, l in enumerate(lines) if l.startswith("  data_mb:"))
lines[bad_line] = lines[bad_line].replace("op: sum", "op: summ")
open(schema, "w").write("\n".join(lines))
p = run([kairos, "check", "--workspace", ws.dir])
c.eq(p.returncode, 1, "check on a broken schema exits 1")
c.check(p.stdout.startswith(f"{schema}:{bad_line + 1}:") and 'unknown op "summ"' in p.stdout, f"check names file:line: {p.stdout}")
p = run([kairos, "check", "--workspace", ws.dir, "--json"])
j = json.loads(p.stdout)
c.check(not j["ok"] and j["problems"][0]["line"] == bad_line + 1 and j["problems"][0]["column"] > 1, f"check --json: {p.stdout}")
p = run([kairos, "serve", "--workspace", ws.dir, "--port", "0"], timeout=30)
c.check(p.returncode == 1 and "summ" in p.stderr, "serve refuses an invalid workspace")
open(schema, "w").write(good_schema)
open(os.path.join(ws.dir, "kairos.yaml"), "a").write("bogus: 1\n")
p = run([kairos, "check", "--workspace", ws.dir])
c.check(p.returncode == 1 and "kairos.yaml:" in p.stdout and 'unknown key "bogus"' in p.stdout, f"config error: {p.stdout}")
os.remove(os.path.join(ws.dir, "kairos.yaml"))  # defaults apply without it
p = run([kairos, "check", "--workspace", ws.dir])
c.eq(p.returncode, 0, "a workspace without kairos.yaml uses defaults")

# generate: same seed → same bytes; another seed → different.
gen = [os.path.join(ws.root, g) for g in ("g1", "g2", "g3")]
for d, seed in zip(gen, (7, 7, 8)):
    run([kairos, "generate", "--out", d, "--subscribers", "300", "--days", "20", "--seed", str(seed), "--json"], check=True)
c.check(filecmp.cmp(os.path.join(gen[0], "events.ndjson"), os.path.join(gen[1], "events.ndjson"), shallow=False), "same seed, same bytes")
c.check(filecmp.cmp(os.path.join(gen[0], "truth.ndjson"), os.path.join(gen[1], "truth.ndjson"), shallow=False), "same seed, same truth")
c.check(not filecmp.cmp(os.path.join(gen[0], "events.ndjson"), os.path.join(gen[2], "events.ndjson"), shallow=False), "other seed, other bytes")

# ingest the generated world: everything accepted.
events = os.path.join(gen[0], "events.ndjson")
n_lines = sum(1 for _ in open(events))
p = run([kairos, "ingest", "--workspace", ws.dir, events, "--json"])
c.eq(p.returncode, 0, f"ingest generated events: {p.stderr}")
s = json.loads(p.stdout)
c.eq(s["accepted"], n_lines, "every generated event accepted")

# Parallel feeders hand chunks over in file order: tiny chunks (each spanning hours of event
# time) on two threads give exactly the profiles of a serial load. A 1 h dedupe window makes any
# chunk that overtook an earlier one show up as "too late" rejects.
ws2 = Workspace(kairos, "ws2")
cfg = os.path.join(ws2.dir, "kairos.yaml")
text = open(cfg).read()
assert "dedupe_window: 72h" in text
open(cfg, "w").write(text.replace("dedupe_window: 72h", "dedupe_window: 1h"))
p = run([kairos, "ingest", "--workspace", ws2.dir, events, "--json", "--threads", "2", "--chunk-bytes", "8192"])
s3 = json.loads(p.stdout)
c.eq((p.returncode, s3["accepted"], s3["rejected"]), (0, n_lines, 0), "small chunks on two feeders")
for sub in ("s0000001", "s0000150", "s0000300"):
    a = json.loads(run([kairos, "profile", "--workspace", ws.dir, sub, "--at", "2026-01-01T00:00:00Z"]).stdout)
    b = json.loads(run([kairos, "profile", "--workspace", ws2.dir, sub, "--at", "2026-01-01T00:00:00Z"]).stdout)
    a.pop("as_of"), b.pop("as_of")
    c.eq(a, b, f"profile {sub} the same after a parallel load")
ws2.cleanup()

# Re-ingest: nothing applied twice (recent events are duplicates, older ones too late to check).
p = run([kairos, "ingest", "--workspace", ws.dir, events, "--json", "--rejects", os.path.join(ws.root, "rej0.ndjson")])
s2 = json.loads(p.stdout)
c.eq(s2["accepted"], 0, "re-ingest applies nothing")
c.eq(s2["duplicates"] + s2["rejected"], n_lines, "re-ingest: every line a duplicate or too late")
c.check(s2["duplicates"] > 0, "re-ingest finds duplicates")

# Bad lines: reported with line numbers in the reject file, exit 1, good lines applied.
bad = os.path.join(ws.root, "bad.ndjson")
now = "2026-01-01T12:00:00Z"
with open(bad, "wb") as f:
    f.write(json.dumps({"event_id": "x1", "subscriber_id": "cli-1", "type": "usage", "ts": now, "kind": "data", "amount": 5}).encode() + b"\n")
    f.write(b'{"event_id":"x2","subscriber_id":"cli-1","type":"usage","ts":"' + now.encode() + b'","kind":"data","amount":"five"}\n')
    f.write(b'{"event_id":"x3","subscriber_id":"cli-1","type":"teleport","ts":"' + now.encode() + b'"}\n')
    f.write(b'{"event_id":"x\xff\xfe","subscriber_id":"cli-1","type":"usage"}\n')
    f.write(b'{"event_id":"x5","subscriber_id":"cli-1","type":"usage","ts":"2999-01-01T00:00:00Z","kind":"data","amount":1}\n')
    f.write(b'{"event_id":"x6","subscriber_id":"cli-1","type":"usage","ts":"' + now.encode() + b'","kind":"data","amount":1}')  # no final newline
rejects = os.path.join(ws.root, "rejects.ndjson")
p = run([kairos, "ingest", "--workspace", ws.dir, bad, "--rejects", rejects, "--json"])
c.eq(p.returncode, 1, "ingest with rejects exits 1")
s = json.loads(p.stdout)
c.eq((s["accepted"], s["rejected"]), (2, 4), "two good lines, four rejected")
rej = [json.loads(l) for l in open(rejects)]
c.eq([r["line"] for r in rej], [2, 3, 4, 5], "reject line numbers")
c.eq(rej[0].get("field"), "/amount", "wrong type names the field")
c.check("teleport" in rej[1]["error"], "unknown type named")
c.check("UTF-8" in rej[2]["error"] or "malformed" in rej[2]["error"], f"non-UTF-8 line: {rej[2]['error']}")
c.check("ahead of the server clock" in rej[3]["error"], "future timestamp")

# gzip input, and a truncated gzip: accepted lines kept, the truncation reported, exit 1.
gz = os.path.join(ws.root, "more.ndjson.gz")
with gzip.open(gz, "wb") as f:
    for i in range(20000):
        f.write((json.dumps({"event_id": f"gz{i}", "subscriber_id": f"gz-{i % 50}", "type": "usage", "ts": now,
                             "kind": "voice", "amount": 1}) + "\n").encode())
p = run([kairos, "ingest", "--workspace", ws.dir, gz, "--json"])
c.eq((p.returncode, json.loads(p.stdout)["accepted"]), (0, 20000), "gzip ingest")
data = open(gz, "rb").read()
trunc = os.path.join(ws.root, "trunc.ndjson.gz")
with gzip.open(trunc, "wb") as f:
    for i in range(20000):
        f.write((json.dumps({"event_id": f"tr{i}", "subscriber_id": "tr", "type": "usage", "ts": now,
                             "kind": "sms", "amount": 1}) + "\n").encode())
raw = open(trunc, "rb").read()
open(trunc, "wb").write(raw[: len(raw) // 2])
p = run([kairos, "ingest", "--workspace", ws.dir, trunc, "--json"])
s = json.loads(p.stdout)
c.eq(p.returncode, 1, "truncated gzip exits 1")
c.check(any("truncated" in e or "unexpected end" in e for e in s["errors"]), f"truncation reported: {s['errors']}")
c.check(0 < s["accepted"] < 20000, f"lines before the truncation kept: {s['accepted']}")
p = run([kairos, "profile", "--workspace", ws.dir, "tr", "--at", now])
c.eq(json.loads(p.stdout)["events_applied"], s["accepted"], "profile shows what was accepted")
p = run([kairos, "profile", "--workspace", ws.dir, "nobody"])
c.check(p.returncode == 1 and "unknown subscriber" in p.stderr, "unknown subscriber")
p = run([kairos, "ingest", "--workspace", ws.dir, os.path.join(ws.root, "missing.ndjson")])
c.check(p.returncode == 1 and "cannot open" in p.stderr, "missing file")

ws.cleanup()
c.finish()
