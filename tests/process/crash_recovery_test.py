"""kill -9 during HTTP ingest: every acknowledged event survives the restart, nothing is applied
twice, and re-sending everything afterwards yields duplicates for what was acknowledged."""
import sys
import threading
import time

from kairos_proc import Checks, Server, Workspace, now_rfc3339, usage_event

kairos = sys.argv[1]
c = Checks()
ws = Workspace(kairos)
server = Server(kairos, ws.dir)
server.wait_ready()

BATCH = 200
acked = {}      # batch number -> response
sent = {}       # batch number -> lines
lock = threading.Lock()
stop = threading.Event()


def writer(wid):
    b = 0
    while not stop.is_set():
        n = wid * 100000 + b
        # One subscriber per batch, so its events_applied says exactly what of it was applied.
        lines = [usage_event(f"w{wid}-b{b}-e{i}", f"sub-{n}", 1.0, now_rfc3339(-60)) for i in range(BATCH)]
        with lock:
            sent[n] = lines
        try:
            status, body = server.post_ndjson(lines, timeout=10)
            if status == 200:
                with lock:
                    acked[n] = body
        except OSError:
            return  # the server was killed mid-request: this batch is not acknowledged
        b += 1


threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
for t in threads:
    t.start()
time.sleep(2.0)
server.kill9()  # in the middle of ingestion
stop.set()
for t in threads:
    t.join()
c.check(len(acked) > 10, f"some batches were acknowledged before the kill ({len(acked)})")

start = time.time()
server2 = Server(kairos, ws.dir)
server2.wait_ready()
print(f"restart to ready: {time.time() - start:.2f} s; acknowledged batches: {len(acked)}; sent: {len(sent)}")

for n in sorted(acked):
    p = server2.profile(f"sub-{n}")
    c.check(p is not None and p["events_applied"] == BATCH,
            f"acknowledged batch {n}: events_applied {p and p['events_applied']} (want {BATCH})")
# A batch in flight at the kill is all or nothing (one group commit).
for n in sorted(set(sent) - set(acked)):
    p = server2.profile(f"sub-{n}")
    c.check(p is None or p["events_applied"] == BATCH, f"unacknowledged batch {n} partially applied")

# Idempotency across the crash: re-sending everything applies only what was never applied.
for n in sorted(sent):
    status, body = server2.post_ndjson(sent[n])
    c.eq(status, 200, f"re-send batch {n}")
    if n in acked:
        c.check('"accepted":0' in body and f'"duplicates":{BATCH}' in body, f"re-sent acknowledged batch {n}: {body[:120]}")
for n in sorted(sent):
    p = server2.profile(f"sub-{n}")
    c.check(p is not None and p["events_applied"] == BATCH, f"batch {n} after re-send")
server2.stop()
ws.cleanup()
c.finish()
