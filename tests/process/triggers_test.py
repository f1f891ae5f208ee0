"""Real-time triggers over the real server on the demo workspace: a ticket event fires the
repeated_tickets trigger, whose email goes to a real local HTTP receiver that fails on purpose
(500 twice, then 200): delivered once, the same Idempotency-Key on every attempt, a valid
signature. A receiver's 400 makes a dead letter that an operator re-queues. A payment of a
customer whose contract ends soon enters the renewal journey; kill -9 and a restart neither lose
the journey nor repeat a delivery. GET /v1/triggers, GET /v1/journeys/{id}, /metrics, a reload
with a broken triggers.yaml (refused, the running triggers stay) and `kairos check`."""
import hashlib
import hmac
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kairos_proc import Checks, Server, free_port, now_rfc3339, run

kairos = sys.argv[1]
c = Checks()
root = tempfile.mkdtemp(prefix="kairos-triggers-")
ws = os.path.join(root, "demo")
run([kairos, "init", ws, "--demo"], check=True)

SECRET = "s3cret"
lock = threading.Lock()
attempts = {}   # Idempotency-Key -> number of requests
received = []   # accepted bodies
bad_signatures = []
refuse = {"bad1": True}  # subscribers whose messages the receiver refuses (400) while set


class Receiver(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        key = self.headers.get("Idempotency-Key", "")
        ts = self.headers.get("X-Kairos-Timestamp", "")
        sig = self.headers.get("X-Kairos-Signature", "")
        want = "sha256=" + hmac.new(SECRET.encode(), (ts + ".").encode() + body, hashlib.sha256).hexdigest()
        payload = json.loads(body)
        with lock:
            if sig != want:
                bad_signatures.append(key)
            attempts[key] = attempts.get(key, 0) + 1
            n = attempts[key]
            sub = payload.get("subscriber_id")
            if refuse.get(sub):
                status = 400
            elif sub == "tk1" and n <= 2:
                status = 500  # fails on purpose, twice
            else:
                status = 200
                received.append(payload)
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


receiver = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
hook = f"http://127.0.0.1:{receiver.server_address[1]}/email"

triggers_path = os.path.join(ws, "triggers.yaml")
with open(triggers_path) as f:
    demo_triggers = f.read()
demo_triggers = demo_triggers.replace(
    "  email: {file: {path: outbound/email.ndjson}}",
    f'  email: {{webhook: {{url: "{hook}", secret: {SECRET}, timeout: 2s, max_attempts: 4, backoff: 200ms, max_backoff: 1s}}}}')
with open(triggers_path, "w") as f:
    f.write(demo_triggers)
p = run([kairos, "check", "--workspace", ws])
c.eq(p.returncode, 0, "the demo workspace with a webhook checks: " + p.stdout + p.stderr)
c.check("9 triggers, 2 journeys" in p.stdout, "check counts triggers and journeys: " + p.stdout)


def wait_for(cond, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with lock:
            if cond():
                return True
        time.sleep(0.05)
    return False


consents = {"sms": True, "email": True, "push": True, "call": True}
contract_end = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() + 40 * 86400))
history = [
    {"event_id": "m-tk1", "subscriber_id": "tk1", "type": "subscriber", "ts": now_rfc3339(-20 * 86400),
     "plan_type": "postpaid", "plan_id": "POST_20", "price_eur": 30, "consents": consents},
    {"event_id": "m-bad1", "subscriber_id": "bad1", "type": "subscriber", "ts": now_rfc3339(-20 * 86400),
     "plan_type": "postpaid", "plan_id": "POST_20", "price_eur": 30, "consents": consents},
    {"event_id": "m-ce1", "subscriber_id": "ce1", "type": "subscriber", "ts": now_rfc3339(-20 * 86400),
     "plan_type": "postpaid", "plan_id": "POST_40", "price_eur": 45, "consents": consents, "contract_end": contract_end},
    {"event_id": "tk-a", "subscriber_id": "tk1", "type": "ticket", "ts": now_rfc3339(-5 * 86400), "category": "network"},
    {"event_id": "bad-a", "subscriber_id": "bad1", "type": "ticket", "ts": now_rfc3339(-5 * 86400), "category": "billing"},
]

server = Server(kairos, ws)
try:
    server.wait_ready()
    status, body = server.post_ndjson([json.dumps(e) for e in history])
    c.eq(status, 200, "history accepted: " + body)

    # The second ticket in 30 days fires repeated_tickets: an apology by email.
    status, body = server.post_ndjson([json.dumps(
        {"event_id": "tk-b", "subscriber_id": "tk1", "type": "ticket", "ts": now_rfc3339(-60), "category": "network"})])
    c.eq(status, 200, "ticket accepted: " + body)
    c.check(wait_for(lambda: any(r["subscriber_id"] == "tk1" for r in received)), "the apology reached the receiver")
    time.sleep(0.5)
    with lock:
        tk = [r for r in received if r["subscriber_id"] == "tk1"]
        keys = [k for k in attempts if k.startswith(tk[0]["decision_id"])] if tk else []
        c.eq(len(tk), 1, "delivered exactly once")
        c.eq(len(keys), 1, f"one idempotency key for all attempts: {keys}")
        c.eq(attempts.get(keys[0]) if keys else 0, 3, "500, 500, then 200: three attempts")
        c.eq(bad_signatures, [], "every attempt signed with HMAC-SHA256 over timestamp.body")
    if tk:
        c.eq(tk[0]["action_id"], "RET_CARE_APOLOGY", "the ServiceRecovery apology")
        c.eq(tk[0]["origin"]["trigger"], "repeated_tickets", "the payload names its trigger")
        c.check("subject" in tk[0].get("content", {}), "with the email treatment's content")

    status, body = server.get("/v1/triggers")
    c.eq(status, 200, "GET /v1/triggers")
    trig = {t["name"]: t for t in json.loads(body)["triggers"]} if status == 200 else {}
    c.eq(len(trig), 9, "nine demo triggers")
    c.eq(trig.get("repeated_tickets", {}).get("counts", {}).get("fired"), 1, "repeated_tickets fired once")
    c.eq(trig.get("data_running_out", {}).get("sizing", {}).get("packages", [{}])[0].get("action"), "DATA_1GB",
         "data_running_out lists its packages, smallest first")

    # A receiver that refuses (400) makes a dead letter at once; re-queued, it is delivered.
    status, _ = server.post_ndjson([json.dumps(
        {"event_id": "bad-b", "subscriber_id": "bad1", "type": "ticket", "ts": now_rfc3339(-30), "category": "billing"})])
    dead = []

    def dead_letters():
        global dead
        s, b = server.get("/v1/deliveries/dead-letters?limit=10")
        dead = json.loads(b)["dead_letters"] if s == 200 else []
        return bool(dead)

    deadline = time.time() + 20
    while time.time() < deadline and not dead_letters():
        time.sleep(0.1)
    c.eq(len(dead), 1, f"one dead letter: {dead}")
    if dead:
        c.eq(dead[0]["subscriber_id"], "bad1", "the refused message")
        c.eq(dead[0]["attempts"], 1, "a 400 is not retried")
        c.check("400" in dead[0]["last_error"], "the error says what the receiver answered: " + dead[0]["last_error"])
        with lock:
            refuse["bad1"] = False
        status, body = server.request("POST", "/v1/deliveries/retry", json.dumps({"id": dead[0]["id"]}))
        c.eq(status, 200, "retry a dead letter: " + body)
        c.check(wait_for(lambda: any(r["subscriber_id"] == "bad1" for r in received)), "delivered after the retry")
        status, body = server.request("POST", "/v1/deliveries/retry", json.dumps({"id": dead[0]["id"]}))
        c.eq(status, 409, "a delivered message is not a dead letter: " + body)
    for bad_body, code in [("{", 400), ('{"id": 5}', 400), ('{"id": "nope"}', 404)]:
        status, body = server.request("POST", "/v1/deliveries/retry", bad_body)
        c.eq(status, code, f"retry {bad_body}: {body}")
    status, body = server.get("/v1/deliveries/dead-letters?limit=0")
    c.eq(status, 400, "limit out of range: " + body)

    # A payment of a customer whose contract ends in 40 days: the renewal journey, first step now.
    status, _ = server.post_ndjson([json.dumps(
        {"event_id": "pay1", "subscriber_id": "ce1", "type": "payment", "ts": now_rfc3339(-10), "amount_eur": 45,
         "days_late": 0})])
    c.check(wait_for(lambda: any(r["subscriber_id"] == "ce1" for r in received)), "the journey's first email")
    status, body = server.get("/v1/journeys/ce1")
    j = json.loads(body).get("journeys", []) if status == 200 else []
    c.eq([x.get("journey") for x in j], ["contract_renewal"], "ce1 is in the renewal journey: " + body)
    if j:
        c.eq(j[0].get("next_channel"), "email", "the next step: the second email")
    status, body = server.get("/v1/journeys/nobody")
    c.eq(status, 404, "journeys of an unknown subscriber: " + body)

    status, body = server.get("/metrics")
    c.check(re.search(r'kairos_trigger_firings_total\{trigger="repeated_tickets"\} 2', body) is not None,
            "firings per trigger in /metrics")
    c.check(re.search(r'kairos_delivery_retries_total\{channel="email"\} 2', body) is not None, "two retries")
    c.check(re.search(r'kairos_dead_letters_total\{channel="email"\} 1', body) is not None, "one dead letter")
    c.check(re.search(r'kairos_deliveries_total\{channel="email"\} 3', body) is not None, "three delivered")
    c.check(re.search(r'kairos_channel_capacity\{channel="call_center"\} 500', body) is not None, "capacity")
    c.check("kairos_journeys_active 1" in body, "one active journey")

    # A broken triggers.yaml is refused on reload: file:line:column, the running triggers stay.
    with open(triggers_path, "w") as f:
        f.write(demo_triggers.replace("event: ticket", "event: tickt"))
    status, body = server.request("POST", "/v1/admin/reload", "")
    c.eq(status, 400, "reload with a broken triggers.yaml: " + body)
    c.check("triggers.yaml:" in body and "unknown event type" in body, "the error names the file and line: " + body)
    p = run([kairos, "check", "--workspace", ws])
    c.check(p.returncode == 1 and re.search(r"triggers\.yaml:\d+:\d+: trigger repeated_tickets", p.stdout),
            "kairos check names it: " + p.stdout)
    status, body = server.get("/v1/triggers")
    c.eq(len(json.loads(body)["triggers"]), 9, "the running triggers stay")
    with open(triggers_path, "w") as f:
        f.write(demo_triggers)
    status, body = server.request("POST", "/v1/admin/reload", "")
    c.eq(status, 200, "reload with the fixed file: " + body)

    # kill -9: the journey and the outbox survive; nothing is delivered twice.
    with lock:
        before = len(received)
    server.kill9()
    server = Server(kairos, ws, port=server.port)
    server.wait_ready()
    status, body = server.get("/v1/journeys/ce1")
    c.eq([x.get("journey") for x in json.loads(body).get("journeys", [])], ["contract_renewal"],
         "the journey survives kill -9: " + body)
    time.sleep(1.5)
    with lock:
        c.eq(len(received), before, "no delivery repeated after the restart")
finally:
    server.stop()
    receiver.shutdown()
    shutil.rmtree(root, ignore_errors=True)
c.finish()
