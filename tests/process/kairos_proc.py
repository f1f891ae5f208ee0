"""Helpers for process-level tests: the real kairos binary, a temporary workspace, a real server
on a free loopback port. Standard library only."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Workspace:
    def __init__(self, kairos, name="ws"):
        self.kairos = kairos
        self.root = tempfile.mkdtemp(prefix="kairos-proc-")
        self.dir = os.path.join(self.root, name)
        run([kairos, "init", self.dir], check=True)

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


def run(args, check=False, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{args} exited {p.returncode}: {p.stderr}{p.stdout}")
    return p


_admin_keys = {}


def create_key(kairos, workspace_dir, role, name=""):
    """A new API key of `role` for the workspace: {"key","id","role",...} from kairos keys create."""
    args = [kairos, "keys", "create", "--workspace", workspace_dir, "--role", role, "--json"]
    if name:
        args += ["--name", name]
    p = run(args, check=True)
    return json.loads(p.stdout)


def admin_key(kairos, workspace_dir):
    """One admin key per workspace for the tests' requests (kept across server restarts)."""
    real = os.path.realpath(workspace_dir)
    if real not in _admin_keys:
        _admin_keys[real] = create_key(kairos, workspace_dir, "admin", "process-tests")["key"]
    return _admin_keys[real]


class Server:
    def __init__(self, kairos, workspace_dir, port=None):
        self.key = admin_key(kairos, workspace_dir)
        self.port = port or free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="kairos-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([kairos, "serve", "--workspace", workspace_dir, "--port", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}: {self.output()}")
            try:
                status, _ = self.get("/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("server not ready in time: " + self.output())

    def output(self):
        with open(self.log.name) as f:
            return f.read()

    def request(self, method, path, body=None, content_type="application/json", timeout=30, raw=False,
                key=None, headers=None):
        """(status, body): body as text, or as bytes when raw (binary answers). Sent with the
        workspace's admin key unless `key` is given ("" = no key)."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        key = self.key if key is None else key
        if key:
            req.add_header("Authorization", "Bearer " + key)
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                self.last_headers = r.headers
                out = r.read()
                return r.status, out if raw else out.decode()
        except urllib.error.HTTPError as e:
            self.last_headers = e.headers
            return e.code, e.read().decode()

    def get(self, path):
        return self.request("GET", path)

    def post_ndjson(self, lines, timeout=30):
        return self.request("POST", "/v1/events", "\n".join(lines) + "\n", "application/x-ndjson", timeout)

    def profile(self, sub):
        status, body = self.get("/v1/subscribers/" + sub)
        return json.loads(body) if status == 200 else None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.path.exists(self.log.name):
            os.unlink(self.log.name)


def usage_event(event_id, sub, mb, ts="2026-01-01T10:00:00Z"):
    return json.dumps({"event_id": event_id, "subscriber_id": sub, "type": "usage", "ts": ts,
                       "kind": "data", "amount": mb})


def now_rfc3339(offset_s=0):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset_s))


class Checks:
    """Collects failures so one run reports them all; exit code 1 if any."""

    def __init__(self):
        self.failures = []
        self.count = 0

    def check(self, cond, what):
        self.count += 1
        if not cond:
            self.failures.append(what)
            print("FAIL:", what, flush=True)

    def eq(self, a, b, what):
        self.check(a == b, f"{what}: {a!r} != {b!r}")

    def finish(self):
        print(f"{self.count - len(self.failures)} passed, {len(self.failures)} failed")
        raise SystemExit(1 if self.failures else 0)
