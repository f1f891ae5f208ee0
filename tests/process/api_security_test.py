"""API hardening on the real server: keys and roles for every endpoint class, revocation while
serving, rate limits, the audit log; signed offer links (QR decoded by zbarimg), the landing
page, accept → order → payment by signed webhook, bad tokens and bad webhooks; privacy export and
erasure across a kill -9."""
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from kairos_proc import Checks, Server, admin_key, create_key, free_port, run, usage_event, now_rfc3339

kairos = sys.argv[1]
c = Checks()
root = tempfile.mkdtemp(prefix="kairos-proc-security-")
server = None
SECRET = "test-webhook-secret-0123456789"


def write_config(ws, extra):
    path = os.path.join(ws, "kairos.yaml")
    with open(path) as f:
        text = f.read()
    with open(path + ".base", "a"):
        pass
    if not os.path.exists(path + ".orig"):
        shutil.copy(path, path + ".orig")
    with open(path + ".orig") as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text + "\n" + extra)


def audit_lines(ws):
    with open(os.path.join(ws, "audit.log")) as f:
        return [json.loads(x) for x in f if x.strip()]


def sign_webhook(body, ts_ms):
    mac = hmac.new(SECRET.encode(), (str(ts_ms) + "." + body).encode(), hashlib.sha256).hexdigest()
    return {"X-Kairos-Payment-Timestamp": str(ts_ms), "X-Kairos-Payment-Signature": "sha256=" + mac}


def wait_for(fn, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    return fn()


try:
    ws = os.path.join(root, "ws")
    run([kairos, "init", ws, "--demo"], check=True)
    write_config(ws, f"""payments:
  provider: local
  webhook_secret: "{SECRET}"
  delay_ms: 100
  timeout: 1h
""")

    # --- keys from the command line -------------------------------------------------------------
    keys = {role: create_key(kairos, ws, role, "t-" + role) for role in ("viewer", "decision", "operator", "admin")}
    for role, k in keys.items():
        c.eq(k["role"], role, "keys create --json role")
        c.check(k["key"].startswith("kai_") and k["id"] in k["key"], "the key carries its id")
    with open(os.path.join(ws, "keys.json")) as f:
        stored = f.read()
    c.check(all(k["key"] not in stored and k["key"][-20:] not in stored for k in keys.values()),
            "keys.json holds no key, only salted hashes")
    listed = json.loads(run([kairos, "keys", "list", "--workspace", ws, "--json"], check=True).stdout)
    c.eq(len(listed["keys"]), 4, "keys list shows every key")
    c.check("key" not in json.dumps(listed).replace('"keys"', ""), "keys list never shows a key")
    p = run([kairos, "keys", "create", "--workspace", ws, "--role", "root"])
    c.check(p.returncode != 0 and "role" in p.stderr, "an unknown role is refused: " + p.stderr)
    p = run([kairos, "keys", "revoke", "--workspace", ws, "000000000000"])
    c.check(p.returncode != 0 and "no key" in p.stderr, "revoking an unknown id fails: " + p.stderr)

    server = Server(kairos, ws)
    server.wait_ready()
    sub = "sec-1"
    s, body = server.request("POST", "/v1/events", usage_event("sec-e1", sub, 120, now_rfc3339(-60)))
    c.eq(s, 200, "seed event: " + body)

    # --- role × endpoint class ----------------------------------------------------------------
    decide_body = json.dumps({"subscriber_id": sub, "channel": "web", "dry_run": True})
    link_body = json.dumps({"subscriber_id": sub, "action_id": "DATA_10GB", "expires_in": "1h"})
    classes = {
        "public": [("GET", "/healthz", None), ("GET", "/readyz", None)],
        "viewer": [("GET", "/v1/subscribers/" + sub, None), ("GET", "/v1/openapi.json", None),
                   ("GET", "/metrics", None), ("GET", "/v1/actions", None), ("GET", "/v1/orders", None),
                   ("GET", "/v1/auth/whoami", None)],
        "decision": [("POST", "/v1/decide", decide_body), ("POST", "/v1/offers/links", link_body),
                     ("POST", "/v1/events", usage_event("sec-e2", "sec-2", 5, now_rfc3339(-30)))],
        "operator": [("POST", "/v1/admin/reload", ""), ("GET", "/v1/admin/models/export", None)],
        "admin": [("GET", "/v1/admin/audit", None), ("GET", "/v1/subscribers/" + sub + "/export", None)],
    }
    allowed = {
        None: {"public"},
        "viewer": {"public", "viewer"},
        "decision": {"public", "viewer", "decision"},
        "operator": {"public", "viewer", "operator"},
        "admin": {"public", "viewer", "decision", "operator", "admin"},
    }
    for role in (None, "viewer", "decision", "operator", "admin"):
        key = keys[role]["key"] if role else ""
        for cls, calls in classes.items():
            for method, path, body in calls:
                s, raw = server.request(method, path, body, key=key, raw=True)
                text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
                if cls in allowed[role]:
                    c.check(s not in (401, 403), f"{role} may call {method} {path} ({cls}): {s} {text[:200]}")
                else:
                    want = 401 if role is None else 403
                    c.eq(s, want, f"{role} may not call {method} {path} ({cls})")
                    if s in (401, 403):
                        err = json.loads(text)["error"]
                        c.eq(err["code"], "unauthenticated" if role is None else "permission_denied",
                             f"error code of {method} {path} for {role}")
    s, text = server.request("GET", "/v1/auth/whoami", key=keys["operator"]["key"])
    c.eq(json.loads(text)["role"], "operator", "whoami says the role")
    s, _ = server.request("GET", "/v1/subscribers/" + sub, key="kai_0123456789ab_" + "A" * 43)
    c.eq(s, 401, "a well-formed unknown key is refused")
    s, _ = server.request("GET", "/v1/subscribers/" + sub, headers={"X-API-Key": keys["viewer"]["key"]}, key="")
    c.eq(s, 200, "X-API-Key works too")

    # Revoked while serving: refused within a moment.
    run([kairos, "keys", "revoke", "--workspace", ws, keys["viewer"]["id"]], check=True)
    time.sleep(0.3)
    s, text = server.request("GET", "/v1/subscribers/" + sub, key=keys["viewer"]["key"])
    c.eq(s, 401, "a revoked key is refused while the server runs")
    c.check("revoked" in text, "the message says revoked: " + text)

    # --- offer links, QR, landing page, order, payment ----------------------------------------
    s, text = server.request("POST", "/v1/offers/links", link_body, key=keys["decision"]["key"])
    c.eq(s, 201, "link created: " + text)
    link = json.loads(text)
    token = link["token"]
    c.check(link["url"].endswith("/o/" + token), "url ends with /o/<token>")
    s, png = server.request("GET", "/o/" + token + "/qr.png", key="", raw=True)
    c.eq(s, 200, "QR PNG without a key")
    if shutil.which("zbarimg"):
        png_path = os.path.join(root, "qr.png")
        with open(png_path, "wb") as f:
            f.write(png)
        z = subprocess.run(["zbarimg", "--raw", "-q", png_path], capture_output=True, text=True)
        c.eq(z.stdout.strip(), link["url"], "zbarimg decodes the link's URL from the served PNG")
    else:
        c.check(False, "zbarimg (zbar-tools) is installed by scripts/install-deps")
    s, svg = server.request("GET", "/o/" + token + "/qr.svg", key="")
    c.check(s == 200 and svg.lstrip().startswith("<"), "QR SVG without a key")
    s, page = server.request("GET", "/o/" + token, key="")
    c.eq(s, 200, "landing page")
    c.check("<form" in page and "/accept" in page and "viewport" in page, "a mobile page with an accept form")
    c.eq(server.last_headers.get("Cache-Control"), "no-store", "the page is not cached")

    s, text = server.request("POST", "/o/" + token + "/accept", "", key="")
    c.eq(s, 201, "accept creates the order: " + text)
    order_id = json.loads(text)["order_id"]
    s, text = server.request("POST", "/o/" + token + "/accept", "", key="")
    c.eq(s, 200, "accepting again: 200")
    c.eq(json.loads(text)["order_id"], order_id, "the same order")
    paid = wait_for(lambda: json.loads(server.get("/v1/orders/" + order_id)[1])["state"] == "paid")
    c.check(paid, "the local provider's signed webhook pays the order: " + server.get("/v1/orders/" + order_id)[1])
    prof = server.profile(sub)
    c.check("accepted" in json.dumps(prof), "the acceptance is in the interaction history")

    # A second order that the provider's (forged) webhooks try to settle.
    s, text = server.request("POST", "/v1/offers/links", link_body, key=keys["decision"]["key"])
    token2 = json.loads(text)["token"]
    s, text = server.request("POST", "/o/" + token2 + "/accept", "", key="")
    order2 = json.loads(text)["order_id"]
    paid2 = wait_for(lambda: json.loads(server.get("/v1/orders/" + order2)[1])["state"] != "created")
    before = server.get("/v1/orders/" + order_id)[1]
    ev = json.dumps({"event_id": "evt-forged", "payment_id": "p", "order_id": order_id, "status": "failed",
                     "created": int(time.time() * 1000)})
    hdrs = sign_webhook(ev, int(time.time() * 1000))
    bad = dict(hdrs)
    bad["X-Kairos-Payment-Signature"] = "sha256=" + "0" * 64
    s, text = server.request("POST", "/v1/payments/webhook", ev, key="", headers=bad)
    c.eq(s, 401, "webhook with a bad signature: " + text)
    stale = sign_webhook(ev, int(time.time() * 1000) - 3600_000)
    s, _ = server.request("POST", "/v1/payments/webhook", ev, key="", headers=stale)
    c.eq(s, 401, "webhook with a stale timestamp")
    s, text = server.request("POST", "/v1/payments/webhook", ev, key="", headers=hdrs)
    c.eq(s, 409, "webhook on a paid order: illegal transition: " + text)
    s, _ = server.request("POST", "/v1/payments/webhook", ev, key="", headers=hdrs)
    c.check(s == 409, "the same event again is refused")
    c.eq(server.get("/v1/orders/" + order_id)[1], before, "no refused webhook changed the order")

    # Bad tokens.
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for name, t, want in [("forged", forged, 404), ("truncated", token[: len(token) // 2], 404),
                          ("garbage", "x" * 40, 404), ("oversized", "a" * 5000, 404)]:
        s, _ = server.request("GET", "/o/" + t, key="")
        c.eq(s, want, f"landing page of a {name} token")
        s, _ = server.request("POST", "/o/" + t + "/accept", "", key="")
        c.eq(s, want, f"accepting a {name} token")
    s, text = server.request("POST", "/v1/offers/links",
                             json.dumps({"subscriber_id": sub, "action_id": "DATA_10GB", "expires_in": 1}),
                             key=keys["decision"]["key"])
    short = json.loads(text)["token"]
    time.sleep(2.1)
    s, _ = server.request("GET", "/o/" + short, key="")
    c.eq(s, 410, "an expired token: 410")
    s, _ = server.request("POST", "/o/" + short + "/accept", "", key="")
    c.eq(s, 410, "accepting an expired token: 410")
    # Rotation: links in flight still work; once the old key is retired they are refused.
    s, text = server.request("POST", "/v1/offers/links", link_body, key=keys["decision"]["key"])
    old = json.loads(text)["token"]
    old_kid = old.split(".")[0]
    p = run([kairos, "offers", "rotate-key", "--workspace", ws, "--json"], check=True)
    time.sleep(1.5)
    s, _ = server.request("GET", "/o/" + old, key="")
    c.eq(s, 200, "a link signed before rotation still opens")
    run([kairos, "offers", "retire-key", "--workspace", ws, "--kid", old_kid], check=True)
    time.sleep(1.5)
    s, _ = server.request("GET", "/o/" + old, key="")
    c.eq(s, 410, "a link signed with a retired key: 410")
    s, text = server.request("POST", "/v1/offers/links", link_body, key=keys["decision"]["key"])
    c.check(json.loads(text)["token"].split(".")[0] != old_kid, "new links use the new key")
    s, text = server.request("POST", "/v1/offers/links", json.dumps({"subscriber_id": sub, "action_id": "NOPE"}),
                             key=keys["decision"]["key"])
    c.eq(s, 400, "a link for an unknown action: " + text)

    s, m = server.get("/metrics")
    c.check('kairos_offer_token_refusals_total{reason="bad_signature"}' in m, "token refusals in /metrics")
    c.check('kairos_payment_webhooks_total{outcome="bad_signature"} 1' in m, "webhook refusals in /metrics: ")
    c.check('kairos_auth_requests_total{outcome="forbidden"}' in m, "auth refusals in /metrics")

    # --- privacy --------------------------------------------------------------------------------
    s, text = server.request("GET", "/v1/subscribers/" + sub + "/export")
    c.eq(s, 200, "export")
    exp = json.loads(text)
    c.eq(exp["subscriber_id"], sub, "export names the subscriber")
    c.check(exp["profile"]["events_applied"] >= 1, "export has the profile")
    c.check(len(exp["orders"]) >= 1 and exp["orders"][0]["subscriber_id"] == sub, "export has the orders")
    s, text = server.request("DELETE", "/v1/subscribers/" + sub, key=keys["operator"]["key"])
    c.eq(s, 403, "an operator may not erase")
    s, text = server.request("DELETE", "/v1/subscribers/" + sub)
    c.eq(s, 200, "erase: " + text)
    c.check(json.loads(text)["orders_erased"] >= 1, "orders' personal fields erased")
    c.eq(server.get("/v1/subscribers/" + sub)[0], 404, "the profile is gone")
    s, text = server.request("DELETE", "/v1/subscribers/nobody-here")
    c.eq(s, 404, "erasing an unknown subscriber: 404")
    server.kill9()
    server = Server(kairos, ws, port=server.port)
    server.wait_ready()
    c.eq(server.get("/v1/subscribers/" + sub)[0], 404, "still gone after kill -9 and restart")
    o = json.loads(server.get("/v1/orders/" + order_id)[1])
    c.check(o["subscriber_id"] != sub and o.get("erased"), "the order no longer names the subscriber: " + str(o))
    log = audit_lines(ws)
    actions = [x["action"] for x in log]
    for a in ("keys.create", "keys.revoke", "config.reload", "subscriber.erase", "subscriber.export"):
        c.check(a in actions, f"audit log has {a}")
    erase = [x for x in log if x["action"] == "subscriber.erase" and x["outcome"] == "ok"]
    c.check(erase and erase[-1]["target"].startswith("sha256:"), "the erasure names a hash")
    c.check(all(sub not in json.dumps(x) for x in log), "the audit log never holds the subscriber id")
    c.check(sub not in server.output(), "the server log holds no subscriber id")
    s, text = server.request("GET", "/v1/admin/audit?limit=2")
    c.eq(len(json.loads(text)["entries"]), 2, "GET /v1/admin/audit?limit=2")
    server.stop()

    # --- rate limits ----------------------------------------------------------------------------
    path = os.path.join(ws, "kairos.yaml")
    with open(path) as f:
        text = f.read()
    c.check("rate_limit: {per_second: 0, burst: 0}" in text, "kairos init writes the rate limit, off")
    with open(path, "w") as f:
        f.write(text.replace("rate_limit: {per_second: 0, burst: 0}", "rate_limit: {per_second: 2, burst: 2}"))
    server = Server(kairos, ws)
    server.wait_ready()
    statuses = [server.request("GET", "/v1/auth/whoami")[0] for _ in range(6)]
    c.eq(statuses.count(200), 2, f"a burst of 2 passes: {statuses}")
    c.eq(statuses.count(429), 4, "the rest: 429")
    c.check(int(server.last_headers.get("Retry-After", "0")) >= 1, "429 carries Retry-After")
    c.eq(server.request("GET", "/healthz")[0], 200, "probes are never limited")
    server.stop()
    server = None

    # --- kairos check covers the payments section and the key files -----------------------------
    path = os.path.join(ws, "kairos.yaml")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("delay_ms: 100", "delay_ms: 100\n  fail_rate: 2"))
    p = run([kairos, "check", "--workspace", ws])
    c.check(p.returncode == 1 and "kairos.yaml:" in p.stdout and "payments.fail_rate" in p.stdout,
            "kairos check names a bad payments setting: " + p.stdout)
    p = run([kairos, "serve", "--workspace", ws, "--port", str(free_port())], timeout=60)
    c.check(p.returncode != 0 and "payments.fail_rate" in (p.stdout + p.stderr), "serve refuses it too")
    with open(path, "w") as f:
        f.write(text)
    with open(os.path.join(ws, "keys.json"), "w") as f:
        f.write('{"keys":[{"id":1}]}')
    p = run([kairos, "check", "--workspace", ws])
    c.check(p.returncode == 1 and "keys.json: /keys/0/id" in p.stdout, "kairos check names a broken keys.json: " + p.stdout)
finally:
    if server:
        server.stop()
    shutil.rmtree(root, ignore_errors=True)

c.finish()
