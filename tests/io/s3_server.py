"""A real S3-compatible server on loopback for the object-storage tests, and a proxy in front of it
that checks every request's SigV4 signature and injects faults.

- S3Server: s3rver (tools/s3rver, installed by scripts/install-deps.sh) on 127.0.0.1, a port of its
  own, a data directory of its own; objects are uploaded with botocore, AWS's own client library.
- S3Proxy: forwards to the server. s3rver accepts any SigV4 signature of a known key, so the proxy
  recomputes each signature with botocore's signer (an implementation independent of maskscan's) and
  answers 403 SignatureDoesNotMatch when it differs. Rules make it answer a GET of a key with an
  error, drop the connection, cut the body short or stall, a given number of times, and count the
  requests per key.

Run alone (python3 tests/io/s3_server.py [--port N] [BUCKET ...]), it starts s3rver and prints its
endpoint until SIGINT or SIGTERM: docs/object-storage.md and bench/s3_throughput.sh use it.
"""
import http.client
import http.server
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from typing import Callable, Dict, List, Optional

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = HERE.parent.parent
S3RVER = SOURCE / "tools" / "s3rver" / "node_modules" / ".bin" / "s3rver"

# s3rver's one account.
ACCESS_KEY = "S3RVER"
SECRET_KEY = "S3RVER"
REGION = "us-east-1"


def s3rver_available() -> bool:
    return S3RVER.exists() and shutil.which("node") is not None


class S3Server:
    """s3rver on 127.0.0.1 with the buckets `buckets`; stop() ends it and removes its data."""

    def __init__(self, buckets=("masks",), port: int = 0):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="maskscan-s3rver-"))
        args = [str(S3RVER), "-d", str(self.dir / "data"), "-a", "127.0.0.1", "-p", str(port), "--no-vhost-buckets"]
        for b in buckets:
            args += ["--configure-bucket", b]
        # s3rver's continuation tokens are DES-encrypted, a cipher Node.js 17+ (OpenSSL 3) has only
        # in its legacy provider: without it every listing of more than one page fails with HTTP 500.
        node_env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True, env=node_env)
        self.port = None
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            lines.append(line)
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.stop()
            raise RuntimeError("s3rver did not start: " + "".join(lines))
        # Its log goes on being written: drained, so that the pipe never fills and stalls it.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._client = None

    def client(self):
        if self._client is None:
            import botocore.config
            import botocore.session
            session = botocore.session.get_session()
            self._client = session.create_client(
                "s3", region_name=REGION, endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
                config=botocore.config.Config(s3={"addressing_style": "path"}, max_pool_connections=16))
        return self._client

    def put(self, bucket: str, key: str, body: bytes):
        return self.client().put_object(Bucket=bucket, Key=key, Body=body)["ETag"]

    def delete(self, bucket: str, key: str):
        self.client().delete_object(Bucket=bucket, Key=key)

    def upload_tree(self, root: pathlib.Path, bucket: str, prefix: str, pattern: str = "**/*") -> int:
        """Every file below `root` (matching `pattern`) to bucket/prefix + its relative path, on 8 threads."""
        files = sorted(p for p in root.glob(pattern) if p.is_file())
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda p: self.put(bucket, prefix + p.relative_to(root).as_posix(), p.read_bytes()), files))
        return len(files)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Rule:
    """What the proxy does to GETs of keys `matches` picks: `action` the first `times` of them
    (None: every one). Actions: an int status (with S3's XML error `code`), "drop" (close the
    connection without a response), "truncate" (send half the body, then close), "stall" (wait
    `seconds`, then forward), "before" (call `hook(key)`, then forward)."""

    def __init__(self, matches: Callable[[str], bool], action, times: Optional[int] = None, code: str = "",
                 seconds: float = 0.0, hook: Optional[Callable[[str], None]] = None):
        self.matches, self.action, self.times, self.code = matches, action, times, code
        self.seconds, self.hook = seconds, hook
        self.used = 0


class S3Proxy:
    """A threaded HTTP proxy on 127.0.0.1 in front of `server`: checks signatures, applies rules."""

    def __init__(self, server: S3Server, check_signatures: bool = True):
        self.server = server
        self.check_signatures = check_signatures
        self.rules: List[Rule] = []
        self.requests: Dict[str, int] = {}  # "GET /bucket/key" -> count
        self.bad_signatures = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                proxy._handle(self)

            do_HEAD = do_GET

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, key_part: str) -> int:
        """Requests whose "METHOD /bucket/key" holds `key_part`."""
        with self.lock:
            return sum(n for r, n in self.requests.items() if key_part in r)

    def listings(self, bucket: str) -> int:
        """Listing requests of `bucket` (pages of ListObjectsV2)."""
        with self.lock:
            return self.requests.get(f"GET /{bucket}/", 0) + self.requests.get(f"GET /{bucket}", 0)

    def _signature_ok(self, h) -> bool:
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        auth = h.headers.get("Authorization", "")
        if not auth:
            return True  # anonymous: s3rver's to allow
        m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                     r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", auth)
        if not m or m.group(1) != ACCESS_KEY:
            return False
        signed = m.group(4).split(";")
        headers = {name: h.headers.get(name, "") for name in signed}
        request = AWSRequest(h.command, f"http://{h.headers.get('Host')}{h.path}", headers=headers)
        request.context["timestamp"] = h.headers.get("x-amz-date", "")
        signer = S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", m.group(3))
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        return expected == m.group(5) and request.context["timestamp"][:8] == m.group(2)

    def _rule_for(self, key: str) -> Optional[Rule]:
        with self.lock:
            for rule in self.rules:
                if rule.matches(key) and (rule.times is None or rule.used < rule.times):
                    rule.used += 1
                    return rule
        return None

    def _error(self, h, status: int, code: str, message: str = ""):
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message or code}</Message></Error>").encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/xml")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _handle(self, h):
        path = urllib.parse.urlsplit(h.path).path
        key = urllib.parse.unquote(path)
        with self.lock:
            self.requests[f"{h.command} {key}"] = self.requests.get(f"{h.command} {key}", 0) + 1
        auth = h.headers.get("Authorization", "")
        if auth and f"Credential={ACCESS_KEY}/" not in auth:
            return self._error(h, 403, "InvalidAccessKeyId",
                               "The AWS Access Key Id you provided does not exist in our records.")
        if self.check_signatures and not self._signature_ok(h):
            with self.lock:
                self.bad_signatures += 1
            return self._error(h, 403, "SignatureDoesNotMatch",
                               "The request signature we calculated does not match the signature you provided.")
        rule = self._rule_for(key)
        if rule is not None:
            if isinstance(rule.action, int):
                return self._error(h, rule.action, rule.code or "InternalError")
            if rule.action == "drop":
                h.close_connection = True
                h.connection.shutdown(socket.SHUT_RDWR)
                return
            if rule.action == "stall":
                time.sleep(rule.seconds)
            if rule.action == "before" and rule.hook:
                rule.hook(key)
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("connection", "keep-alive")}
        upstream.request(h.command, h.path, headers=headers)
        response = upstream.getresponse()
        body = response.read()
        upstream.close()
        h.send_response(response.status)
        for k, v in response.getheaders():
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length", "date"):
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if rule is not None and rule.action == "truncate":
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        if h.command != "HEAD":
            h.wfile.write(body)


def main():
    import argparse
    parser = argparse.ArgumentParser(description="s3rver on 127.0.0.1 with the given buckets, until SIGINT/SIGTERM "
                                                 "(its data is removed then). Key S3RVER, secret S3RVER.")
    parser.add_argument("buckets", nargs="*", default=["masks"])
    parser.add_argument("--port", type=int, default=0, help="default: a free port, printed")
    args = parser.parse_args()
    stop = threading.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stop.set())
    server = S3Server(buckets=args.buckets, port=args.port)
    print(f"s3rver {server.endpoint} buckets {' '.join(args.buckets)} (key {ACCESS_KEY}, secret {SECRET_KEY})",
          flush=True)
    try:
        while not stop.wait(0.5):
            if server.process.poll() is not None:
                raise SystemExit("s3rver ended")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
