"""Decisioning over real HTTP on the demo workspace: POST /v1/decide (with explanation, dry
runs, bad input), POST /v1/responses (counted once), GET /v1/actions, GET /v1/decisions/{id}
and its replay, POST /v1/admin/reload (a broken catalog keeps the running one), the adaptive
models (health, export, a corrupt import refused, kept across a restart, `kairos models`), the
uplift report, decisions and impressions surviving kill -9, `kairos check` naming catalog errors
by file:line:column, and `kairos decide` on the command line."""
import json
import os
import sys

from kairos_proc import Checks, Server, run
import shutil
import tempfile

kairos = sys.argv[1]
c = Checks()
root = tempfile.mkdtemp(prefix="kairos-decide-")
ws = os.path.join(root, "demo")
run([kairos, "init", ws, "--demo"], check=True)
p = run([kairos, "check", "--workspace", ws])
c.eq(p.returncode, 0, "the demo workspace checks: " + p.stdout + p.stderr)

now = run(["date", "-u", "+%Y-%m-%dT%H:%M:%SZ"]).stdout.strip()
day = now[:10]
events = [
    {"event_id": "m1", "subscriber_id": "p1", "type": "subscriber", "ts": f"{day}T00:00:00Z", "plan_type": "prepaid",
     "plan_id": "PRE_S", "data_allowance_mb": 5000, "timezone": "UTC", "consents": {"sms": True, "email": True, "push": True}},
    {"event_id": "m2", "subscriber_id": "p2", "type": "subscriber", "ts": f"{day}T00:00:00Z", "plan_type": "postpaid",
     "plan_id": "POST_M", "data_allowance_mb": 20000, "consents": {"sms": False}},
]
server = Server(kairos, ws)
try:
    server.wait_ready()
    status, body = server.post_ndjson([json.dumps(e) for e in events])
    c.eq(status, 200, "events accepted: " + body)

    status, body = server.get("/v1/actions")
    actions = json.loads(body)["actions"] if status == 200 else []
    c.check(len(actions) >= 60, f"the demo catalog has >= 60 actions ({len(actions)})")

    def decide(req):
        status, body = server.request("POST", "/v1/decide", json.dumps(req))
        return status, json.loads(body)

    status, d = decide({"subscriber_id": "p1", "channel": "app", "explain": True, "limit": 3})
    c.eq(status, 200, f"decide: {d}")
    c.check(d.get("decision_id", "").startswith("d"), "a decision id")
    c.check(len(d.get("actions", [])) <= 3, "at most the limit")
    c.check(d.get("no_action_reason") is None or not d["actions"], "a reason only without actions")
    cands = d.get("explanation", {}).get("candidates", [])
    c.eq(len(cands), len(actions), "an explanation names every candidate")
    c.check(all("stage" in x for x in cands), "each with its stage")
    first = d

    status, d = decide({"subscriber_id": "p1", "channel": "app", "dry_run": True})
    c.check(status == 200 and d.get("dry_run") is True and d.get("decision_id") == "", f"dry run: {d}")

    for req, code, field in [
        ({"subscriber_id": "p1", "channel": "fax"}, 400, "/channel"),
        ({"subscriber_id": "nobody", "channel": "app"}, 404, None),
        ({"channel": "app"}, 400, "/subscriber_id"),
        ({"subscriber_id": "p1", "channel": "app", "context": {"nope": 1}}, 400, "/context/nope"),
    ]:
        status, d = decide(req)
        c.eq(status, code, f"{req}: {d}")
        if field:
            c.eq(d["error"].get("field"), field, f"{req} field")
    status, body = server.request("POST", "/v1/decide", "{not json")
    c.eq(status, 400, "malformed JSON: " + body)
    status, body = server.request("POST", "/v1/decide", "x" * 100, "text/plain")
    c.eq(status, 415, "wrong media type")
    status, body = server.get("/v1/decide")
    c.eq(status, 405, "GET on a POST route")

    if first["actions"]:
        a = first["actions"][0]["action_id"]
        resp = {"decision_id": first["decision_id"], "action_id": a, "outcome": "accepted"}
        status, body = server.request("POST", "/v1/responses", json.dumps(resp))
        c.eq(status, 201, "response recorded: " + body)
        status, body = server.request("POST", "/v1/responses", json.dumps(resp))
        c.check(status == 200 and json.loads(body)["duplicate"], "the same response again counts once: " + body)
        status, body = server.request("POST", "/v1/responses",
                                      json.dumps({**resp, "action_id": "NOT_SHOWN"}))
        c.eq(status, 400, "a response for an action not shown: " + body)
    status, body = server.request("POST", "/v1/responses",
                                  json.dumps({"decision_id": "d000000000000-00000000", "action_id": "X", "outcome": "accepted"}))
    c.eq(status, 404, "a response for an unknown decision")

    status, body = server.get("/v1/decisions/" + first["decision_id"])
    rec = json.loads(body) if status == 200 else {}
    c.check(status == 200 and rec.get("subscriber_id") == "p1" and "profile" in rec, "the decision log record")
    status, body = server.get("/v1/decisions/" + first["decision_id"] + "/replay")
    c.check(status == 200 and json.loads(body)["identical"], "the logged decision replays identically: " + body[:300])

    # A broken catalog: reload refuses it with file:line:column and the running one stays.
    catalog = os.path.join(ws, "catalog.yaml")
    good = open(catalog).read()
    open(catalog, "w").write(good + "\nbogus: 1\n")
    status, body = server.request("POST", "/v1/admin/reload", "")
    c.check(status == 400 and "catalog.yaml:" in body, "reload refuses a broken catalog: " + body)
    status, d = decide({"subscriber_id": "p1", "channel": "web", "dry_run": True})
    c.eq(status, 200, "still deciding after a failed reload")
    p = run([kairos, "check", "--workspace", ws])
    c.check(p.returncode == 1 and p.stdout.startswith(catalog + ":"), "check names the catalog error: " + p.stdout)
    open(catalog, "w").write(good)
    status, body = server.request("POST", "/v1/admin/reload", "")
    c.check(status == 200 and json.loads(body)["reloaded"], "reload of a good catalog: " + body)

    status, body = server.get("/metrics")
    c.check("kairos_decisions_total" in body and "kairos_catalog_reload_failures_total 1" in body, "decision metrics")

    # Adaptive models: the accepted response taught the first action's app model once.
    status, body = server.get("/v1/models")
    models = json.loads(body)["models"] if status == 200 else []
    c.check(len(models) >= len(actions), f"a model per action and channel ({len(models)})")
    c.check(all(m["kind"] == "naive_bayes" and "flags" in m for m in models), "model health fields")
    learned = 1 if first["actions"] else 0
    c.check(f"kairos_model_updates_total {learned}" in server.get("/metrics")[1], "model updates counted")
    if first["actions"]:
        a = first["actions"][0]["action_id"]
        status, body = server.get("/v1/models/" + a + "%2Fapp")
        m = json.loads(body) if status == 200 else {}
        c.check(m.get("responses") == 1 and m.get("positives") == 1, "the model learned one positive: " + body[:300])
        c.eq(len(m.get("predictors", [])), 12, "the demo's 12 predictors")
        p = first["actions"][0]["probability"]
        c.check(0 < p <= 1, f"the decision logged the probability it showed the action with ({p})")
    status, body = server.get("/v1/models/NOPE%2Fapp")
    c.eq(status, 404, "an unknown model")
    status, snapshot = server.request("GET", "/v1/admin/models/export", raw=True)
    c.check(status == 200 and snapshot[:4] == b"KMDL", "models export")
    broken = bytearray(snapshot)
    broken[len(broken) // 2] ^= 0x40
    status, body = server.request("POST", "/v1/admin/models/import", bytes(broken), "application/octet-stream")
    c.check(status == 400 and "checksum" in body, "a corrupt snapshot is refused: " + body)
    status, body = server.request("POST", "/v1/admin/models/import", snapshot, "application/octet-stream")
    c.check(status == 200 and json.loads(body)["imported"], "the exported snapshot imports: " + body)
    models_before = server.get("/v1/models")[1]

    # Uplift: the demo's 5% control group; every decision so far is a target or control unit.
    status, body = server.get("/v1/reports/uplift")
    up = json.loads(body) if status == 200 else {}
    c.check(status == 200 and "overall" in up and "uplift" in up["overall"], "uplift report: " + body[:300])
    n = up.get("overall", {}).get("target", {}).get("n", 0) + up.get("overall", {}).get("control", {}).get("n", 0)
    c.check(n >= 1, f"uplift units ({n})")
    for q, what in [("?since=yesterday", "since"), ("?limit=3", "limit")]:
        status, body = server.get("/v1/reports/uplift" + q)
        c.check(status == 400 and json.loads(body)["error"]["field"] == what, f"uplift {q}: " + body)

    # A graceful restart keeps what the models learned.
    server.stop()
    server = Server(kairos, ws)
    server.wait_ready()
    c.eq(server.get("/v1/models")[1], models_before, "models survive a restart")

    # kill -9: the decision log and the impressions are durable.
    server.kill9()
    server = Server(kairos, ws)
    server.wait_ready()
    status, body = server.get("/v1/decisions/" + first["decision_id"])
    c.eq(status, 200, "the decision log survives kill -9")
    server.stop()

    # The command line reads the model file (the server is stopped).
    p = run([kairos, "models", "--workspace", ws, "--json"])
    c.check(p.returncode == 0 and json.loads(p.stdout) == json.loads(models_before), "kairos models --json: " + p.stderr)
    p = run([kairos, "models", "--workspace", ws])
    c.check(p.returncode == 0 and "models (AUC" in p.stdout, "kairos models: " + p.stdout[-300:] + p.stderr)
    out = os.path.join(root, "models.kmdl")
    p = run([kairos, "models", "export", "--workspace", ws, "--out", out])
    c.check(p.returncode == 0 and open(out, "rb").read()[:4] == b"KMDL", "kairos models export: " + p.stderr)
    open(out + ".bad", "wb").write(b"KMDL" + b"\0" * 10)
    p = run([kairos, "models", "import", "--workspace", ws, "--in", out + ".bad"])
    c.check(p.returncode == 1 and "unchanged" in p.stderr, "kairos models import refuses a bad file: " + p.stderr)
    p = run([kairos, "models", "import", "--workspace", ws, "--in", out])
    c.check(p.returncode == 0 and "imported" in p.stdout, "kairos models import: " + p.stdout + p.stderr)

    # The command line decides on the same store (the server is stopped).
    p = run([kairos, "decide", "--workspace", ws, "--subscriber", "p1", "--channel", "app", "--json", "--dry-run"])
    c.check(p.returncode == 0 and "actions" in json.loads(p.stdout), "kairos decide --json: " + p.stdout + p.stderr)
    p = run([kairos, "decide", "--workspace", ws, "--subscriber", "p1", "--channel", "fax"])
    c.check(p.returncode == 1 and "channels:" in p.stderr, "kairos decide names the channels: " + p.stderr)

    # The decision log as bandit feedback: the accepted action of the first decision has reward 1.
    p = run([kairos, "decisions", "export", "--workspace", ws])
    rows = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    c.check(p.returncode == 0 and rows, "decisions export: " + p.stderr)
    mine = [r for r in rows if r["decision_id"] == first["decision_id"]]
    c.eq([r["action_id"] for r in mine], [a["action_id"] for a in first["actions"]], "export lists the shown actions in order")
    if first["actions"]:
        c.eq(mine[0]["reward"], 1, "the accepted action is rewarded")
        c.eq(mine[0]["position"], 1, "positions are 1-based")
        c.eq(sum(r["reward"] for r in rows), 1, "nothing else was rewarded")
    p = run([kairos, "decisions", "export", "--workspace", ws, "--reward", "loved"])
    c.check(p.returncode == 1 and "outcomes:" in p.stderr, "an unknown reward outcome is refused: " + p.stderr)
finally:
    server.stop()
    shutil.rmtree(root, ignore_errors=True)
c.finish()
