"""maskscan scan s3://bucket/prefix/ against a real S3-compatible server (s3rver) on loopback,
behind a proxy that checks every SigV4 signature with botocore and injects faults
(tests/io/s3_server.py). The truth is a scan of a local copy of the same objects: every output
file byte for byte, and the summary but for where the frames were read from.
Run by ctest (tests/CMakeLists.txt: s3_scan) with MASKSCAN_CLI, MASKSCAN_TEST_DATA and PYTHONPATH."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import s3_server  # noqa: E402

pytestmark = pytest.mark.skipif(not s3_server.s3rver_available(),
                                reason="s3rver is not installed (bash scripts/install-deps.sh)")

BUCKET = "masks"
PREFIX = "datasets/wood/"
HERE = pathlib.Path(__file__).resolve().parent
DATA = pathlib.Path(os.environ.get("MASKSCAN_TEST_DATA", HERE.parent.parent.parent / "shared" / "data"))
CLI = os.environ.get("MASKSCAN_CLI", str(HERE.parent.parent / "build" / "src" / "maskscan"))
OUTPUTS = ("frames.csv", "weights.csv", "cooccurrence.csv", "components.csv")


@pytest.fixture(scope="module")
def server():
    s = s3_server.S3Server(buckets=(BUCKET, "other"))
    yield s
    s.stop()


@pytest.fixture()
def proxy(server):
    p = s3_server.S3Proxy(server)
    yield p
    p.stop()


@pytest.fixture(scope="module")
def local(tmp_path_factory, server) -> pathlib.Path:
    """The dataset on disk, uploaded below s3://masks/datasets/wood/: real CamVid and ADE20K masks, a
    synthetic WoodScape-like set, a key that needs encoding, a file that is not a PNG, and a folder of
    an earlier scan's results (left out of both listings)."""
    root = tmp_path_factory.mktemp("local") / "wood"
    shutil.copytree(DATA / "real" / "gray8_ids" / "camvid_segnet", root / "camvid")
    shutil.copytree(DATA / "real" / "gray8_ids" / "ade20k_sceneparsing", root / "ade20k")
    subprocess.run([CLI, "synth", str(root / "synth"), "--frames", "24", "--width", "128", "--height", "96"],
                   check=True, stdout=subprocess.DEVNULL)
    odd = root / "odd names" / "frame #1 + é (copy)=x.png"
    odd.parent.mkdir()
    shutil.copy(sorted((root / "camvid").glob("*.png"))[0], odd)
    (root / "broken.png").write_bytes(b"this is not a PNG")
    subprocess.run([CLI, "scan", str(root / "synth"), "--out", str(root / "old_results"), "--report",
                    "--no-progress"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uploaded = server.upload_tree(root, BUCKET, PREFIX)
    assert uploaded >= 130
    server.put(BUCKET, "datasets/wood2/not-below-the-prefix.png", (root / "broken.png").read_bytes())
    return root


def env(home: pathlib.Path, **extra) -> dict:
    """An environment with s3rver's key and no AWS files but those a test writes into `home`."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.update(HOME=str(home), AWS_ACCESS_KEY_ID=s3_server.ACCESS_KEY, AWS_SECRET_ACCESS_KEY=s3_server.SECRET_KEY)
    e.update(extra)
    return {k: v for k, v in e.items() if v is not None}


def scan(args, home, check_status=(0, 3), timeout=300, **extra_env):
    r = subprocess.run([CLI, "scan", *map(str, args), "--no-progress"], capture_output=True, text=True,
                       env=env(home, **extra_env), timeout=timeout)
    if check_status is not None:
        assert r.returncode in check_status, r.stderr
    return r


def summary(out: pathlib.Path) -> dict:
    """summary.json but where the frames came from, how long it took and the concurrency options."""
    s = json.loads((out / "summary.json").read_text())
    for k in ("timing", "input", "io_backend"):
        s.pop(k, None)
    for k in ("workers", "io_depth", "queue_depth", "io", "serial"):
        s["options"].pop(k, None)
    return s


def assert_same_results(a: pathlib.Path, b: pathlib.Path):
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    for name in names:
        if name.endswith("summary.json"):
            assert summary((a / name).parent) == summary((b / name).parent), name
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


STATS = ["--heatmaps", "--heatmap-grid", "16x12", "--components", "8", "--group-by", r"^([a-z0-9]+)/",
         "--repeat-threshold", "0.5"]


@pytest.fixture(scope="module")
def local_results(local, tmp_path_factory):
    out = tmp_path_factory.mktemp("local-results") / "r"
    r = subprocess.run([CLI, "scan", str(local), "--out", str(out), *STATS, "--no-progress"], capture_output=True,
                       text=True)
    assert r.returncode == 3, r.stderr  # broken.png is skipped
    assert "old_results" in r.stderr  # the earlier results are left out
    return out


@pytest.mark.parametrize("concurrency", [["--io-depth", "1", "--workers", "1"], ["--io-depth", "16"],
                                         ["--io-depth", "64", "--queue-depth", "8"], ["--serial"]])
def test_a_bucket_scans_as_its_local_copy(proxy, local_results, tmp_path, concurrency):
    out = tmp_path / "s3"
    r = scan([f"s3://{BUCKET}/{PREFIX}", "--endpoint-url", proxy.endpoint, "--out", out, *STATS, *concurrency],
             tmp_path, check_status=(3,))
    assert_same_results(local_results, out)
    s = json.loads((out / "summary.json").read_text())
    assert s["input"] == f"s3://{BUCKET}/{PREFIX}"
    assert [e["path"] for e in s["errors"]] == ["broken.png"]
    assert "left out 1 directory" in r.stderr and "old_results" in r.stderr
    assert proxy.bad_signatures == 0
    assert proxy.count("not-below-the-prefix") == 0
    assert proxy.count("frame #1 + é (copy)=x.png") == 1  # encoded, signed, found


def test_a_prefix_without_its_slash_is_the_same_folder(proxy, local_results, tmp_path):
    out = tmp_path / "s3"
    scan([f"s3://{BUCKET}/{PREFIX.rstrip('/')}", "--endpoint-url", proxy.endpoint, "--out", out, *STATS], tmp_path)
    assert (out / "frames.csv").read_bytes() == (local_results / "frames.csv").read_bytes()


def test_one_object_is_one_frame(proxy, local, tmp_path):
    key = "camvid/" + sorted(p.name for p in (local / "camvid").glob("*.png"))[3]
    out_s3, out_local = tmp_path / "s3", tmp_path / "local"
    scan([f"s3://{BUCKET}/{PREFIX}{key}", "--endpoint-url", proxy.endpoint, "--out", out_s3], tmp_path)
    scan([local / key, "--out", out_local], tmp_path)
    assert (out_s3 / "frames.csv").read_bytes() == (out_local / "frames.csv").read_bytes()


def test_python_scans_a_bucket_as_the_cli_does(proxy, local_results, tmp_path, monkeypatch):
    maskscan = pytest.importorskip("maskscan")
    for k, v in env(tmp_path).items():
        if k.startswith("AWS_") or k == "HOME":
            monkeypatch.setenv(k, v)
    out = tmp_path / "py"
    r = maskscan.scan(f"s3://{BUCKET}/{PREFIX}", endpoint_url=proxy.endpoint, heatmaps=True, heatmap_grid="16x12",
                      components=8, group_by=r"^([a-z0-9]+)/", repeat_threshold=0.5, out=out)
    assert_same_results(local_results, out)
    assert [e.path for e in r.errors] == ["broken.png"]
    with pytest.raises(ValueError, match="endpoint_url: only with an 's3://"):
        maskscan.scan(tmp_path, endpoint_url=proxy.endpoint)


def test_a_listing_of_many_pages(server, proxy, tmp_path):
    """1,234 keys: s3rver pages them by 1,000, so the listing takes two pages and a continuation token."""
    import random
    import zlib
    import struct

    def png(w, h, rows):
        raw = b"".join(b"\0" + bytes(r) for r in rows)
        chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

    rng = random.Random(7)
    local = tmp_path / "many"
    for i in range(1234):
        p = local / f"d{i % 7}" / f"f{i:05d}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(png(6, 4, [[rng.randrange(5) for _ in range(6)] for _ in range(4)]))
    assert server.upload_tree(local, "other", "many/") == 1234
    out_s3, out_local = tmp_path / "s3", tmp_path / "local"
    scan([f"s3://other/many/", "--endpoint-url", proxy.endpoint, "--out", out_s3, "--heatmaps"], tmp_path,
         check_status=(0,))
    scan([local, "--out", out_local, "--heatmaps"], tmp_path, check_status=(0,))
    assert_same_results(out_local, out_s3)
    assert json.loads((out_s3 / "summary.json").read_text())["frames_scanned"] == 1234
    assert proxy.listings("other") == 2  # two pages


def test_faults_are_retried_or_named_per_file(server, proxy, local, tmp_path):
    """Each fault on a GET ends as it should: passing ones retried to success, lasting ones named. On a
    prefix of its own (faults/), since one of its objects is overwritten."""
    server.upload_tree(local / "camvid", "other", "faults/camvid/")
    names = sorted(p.relative_to(local).as_posix() for p in (local / "camvid").glob("*.png"))
    slow, reset, cut, busy, slowdown, failing, gone, denied, changed = names[:9]
    key = lambda name: f"/other/faults/{name}"
    is_ = lambda name: (lambda k: k == key(name))
    R = s3_server.Rule
    proxy.rules = [
        R(is_(slow), "stall", times=1, seconds=4),      # longer than --s3-timeout 2: abandoned, retried
        R(is_(reset), "drop", times=2),                 # the connection closed without a response
        R(is_(cut), "truncate", times=1),               # half the body, then the connection closed
        R(is_(busy), 500, times=2),
        R(is_(slowdown), 503, times=3, code="SlowDown"),
        R(is_(failing), 503, code="SlowDown"),          # every time: given up after the retries
        R(is_(gone), 404, code="NoSuchKey"),
        R(is_(denied), 403, code="AccessDenied"),
        R(is_(changed), "before", times=1, hook=lambda k: server.put("other", k.split("/", 2)[2], b"new bytes")),
    ]
    out = tmp_path / "s3"
    t0 = time.monotonic()
    r = scan(["s3://other/faults/camvid/", "--endpoint-url", proxy.endpoint, "--out", out, "--s3-retries", "3",
              "--s3-timeout", "2", "--heatmaps"], tmp_path, check_status=(3,))
    assert time.monotonic() - t0 < 120
    errors = {e["path"]: e for e in json.loads((out / "summary.json").read_text())["errors"]}
    bare = lambda name: name.split("/", 1)[1]
    assert sorted(errors) == sorted(bare(n) for n in (failing, gone, denied, changed)), r.stderr
    assert "503" in errors[bare(failing)]["message"] and "SlowDown" in errors[bare(failing)]["message"]
    assert "after 4 attempts" in errors[bare(failing)]["message"]
    assert "gone" in errors[bare(gone)]["message"] and "NoSuchKey" in errors[bare(gone)]["message"]
    assert "access denied" in errors[bare(denied)]["message"] and "AccessDenied" in errors[bare(denied)]["message"]
    assert "changed since it was listed" in errors[bare(changed)]["message"]
    assert all(e["error"] == "io_error" for e in errors.values())
    # Attempts: each retried fault once more than its failures; the lasting ones 1 + retries; none for 4xx.
    assert [proxy.count(key(n)) for n in (slow, reset, cut, busy, slowdown, failing, gone, denied)] == \
           [2, 3, 2, 3, 4, 4, 1, 1]
    # Nothing counted wrong: the frames read are counted as a local scan of exactly them counts them.
    kept = tmp_path / "kept" / "camvid"
    kept.mkdir(parents=True)
    for n in names:
        if bare(n) not in errors:
            shutil.copy(local / n, kept / bare(n))
    scan([kept, "--out", tmp_path / "local", "--heatmaps"], tmp_path, check_status=(0,))
    assert (out / "frames.csv").read_bytes() == (tmp_path / "local" / "frames.csv").read_bytes()
    for name in ("heatmaps_480x360.npy", "weights.csv", "cooccurrence.csv"):
        assert (out / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


def test_the_listing_is_retried_and_its_failures_named(server, proxy, local, tmp_path):
    url = f"s3://{BUCKET}/{PREFIX}camvid/"
    is_listing = lambda k: k.rstrip("/") == f"/{BUCKET}"
    proxy.rules = [s3_server.Rule(is_listing, 503, times=2, code="SlowDown")]
    r = scan([url, "--endpoint-url", proxy.endpoint], tmp_path, check_status=(0,))
    assert "101 frames scanned" in r.stdout
    proxy.rules = [s3_server.Rule(is_listing, 500)]
    r = scan([url, "--endpoint-url", proxy.endpoint, "--s3-retries", "2"], tmp_path, check_status=(1,))
    assert "cannot list the objects: HTTP 500" in r.stderr and "after 3 attempts" in r.stderr
    proxy.rules = []

    before = proxy.listings(BUCKET)
    r = scan([url, "--endpoint-url", proxy.endpoint], tmp_path, check_status=(1,), AWS_SECRET_ACCESS_KEY="wrong")
    assert "HTTP 403 (SignatureDoesNotMatch" in r.stderr and "the key is from the environment" in r.stderr
    assert proxy.listings(BUCKET) == before + 1  # refused once, not retried
    r = scan(["s3://no-such-bucket/x/", "--endpoint-url", proxy.endpoint], tmp_path, check_status=(1,))
    assert "s3://no-such-bucket/x/: cannot list the objects: HTTP 404 (NoSuchBucket" in r.stderr
    r = scan([url, "--endpoint-url", proxy.endpoint], tmp_path, check_status=(1,), AWS_ACCESS_KEY_ID=None,
             AWS_SECRET_ACCESS_KEY=None)
    assert "S3 credentials: none found" in r.stderr
    r = scan([url, "--endpoint-url", proxy.endpoint], tmp_path, check_status=(1,), AWS_SECRET_ACCESS_KEY=None)
    assert "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" in r.stderr
    with socket_closed() as port:
        t0 = time.monotonic()
        r = scan([url, "--endpoint-url", f"http://127.0.0.1:{port}", "--s3-retries", "2"], tmp_path,
                 check_status=(1,))
        assert "Couldn't connect" in r.stderr and "after 3 attempts" in r.stderr
        assert time.monotonic() - t0 < 30
    r = scan([f"s3://{BUCKET}/no/such/prefix/", "--endpoint-url", proxy.endpoint], tmp_path, check_status=(1,))
    assert "no *.png objects found" in r.stderr
    for bad, words in ((["--endpoint-url", "ftp://x"], "scheme must be http or https"),
                       (["--endpoint-url", "http://host/path"], "give the server only")):
        r = scan([url, *bad], tmp_path, check_status=(1, 2))
        assert words in r.stderr
    r = scan(["s3://", "--endpoint-url", proxy.endpoint], tmp_path, check_status=(1, 2))
    assert "is not a bucket name" in r.stderr


class socket_closed:
    """A loopback port nothing listens on."""

    def __enter__(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *a):
        return False


def test_s3_flags_need_an_s3_input(local, tmp_path):
    for flag in (["--endpoint-url", "http://127.0.0.1:9"], ["--region", "eu-west-1"], ["--profile", "x"],
                 ["--no-sign-request"], ["--s3-retries", "1"], ["--s3-timeout", "5"], ["--s3-addressing", "path"]):
        r = scan([local, *flag], tmp_path, check_status=(2,))
        assert f"{flag[0]}: only with an s3://bucket/prefix/ input" in r.stderr


def test_max_file_bytes_refuses_an_object_before_its_get(proxy, local, tmp_path):
    out = tmp_path / "s3"
    scan([f"s3://{BUCKET}/{PREFIX}ade20k/", "--endpoint-url", proxy.endpoint, "--out", out, "--max-file-bytes",
          "1000"], tmp_path, check_status=(1,))  # nothing scanned
    errors = json.loads((out / "summary.json").read_text())["errors"]
    assert len(errors) == 4 and all(e["error"] == "file_too_large" for e in errors)
    assert "(listed), more than the limit of 1000" in errors[0]["message"]
    assert proxy.count(f"/{BUCKET}/{PREFIX}ade20k/") == 0  # no GET of any object


def test_profiles_of_the_aws_files(proxy, local, tmp_path):
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n\n"
        f"[ci]\n# s3rver's key\naws_access_key_id = {s3_server.ACCESS_KEY}\naws_secret_access_key = {s3_server.SECRET_KEY}\n")
    (tmp_path / ".aws" / "config").write_text("[profile ci]\nregion = eu-west-1\n")
    url = f"s3://{BUCKET}/{PREFIX}ade20k/"
    no_env = dict(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    r = scan([url, "--endpoint-url", proxy.endpoint, "--profile", "ci"], tmp_path, check_status=(0,), **no_env)
    assert "4 frames scanned" in r.stdout
    scan([url, "--endpoint-url", proxy.endpoint], tmp_path, check_status=(0,), AWS_PROFILE="ci", **no_env)
    # A named profile wins over the environment's keys, as in the AWS CLI.
    scan([url, "--endpoint-url", proxy.endpoint, "--profile", "ci"], tmp_path, check_status=(0,),
         AWS_SECRET_ACCESS_KEY="wrong")
    r = scan([url, "--endpoint-url", proxy.endpoint], tmp_path, check_status=(1,), **no_env)
    assert "InvalidAccessKeyId" in r.stderr and "profile 'default'" in r.stderr
    r = scan([url, "--endpoint-url", proxy.endpoint, "--profile", "nope"], tmp_path, check_status=(1,), **no_env)
    assert "profile 'nope' has no aws_access_key_id" in r.stderr
    # The region is the profile's: signed for eu-west-1 (the proxy checks the signature with its scope).
    before = proxy.bad_signatures
    scan([url, "--endpoint-url", proxy.endpoint], tmp_path, check_status=(0,), AWS_PROFILE="ci", **no_env)
    assert proxy.bad_signatures == before


def test_interrupted_and_resumed_by_key(proxy, local, tmp_path):
    """Ctrl-C during a scan of the bucket, then --resume: the outputs of one uninterrupted scan."""
    url = f"s3://{BUCKET}/{PREFIX}camvid/"
    one = tmp_path / "one"
    scan([url, "--endpoint-url", proxy.endpoint, "--out", one, "--heatmaps"], tmp_path, check_status=(0,))
    proxy.rules = [s3_server.Rule(lambda k: k.endswith(".png"), "stall", seconds=0.05)]
    out, state = tmp_path / "out", tmp_path / "scan.state"
    p = subprocess.Popen([CLI, "scan", url, "--endpoint-url", proxy.endpoint, "--out", str(out), "--heatmaps",
                          "--save-state", str(state), "--io-depth", "2", "--queue-depth", "4", "--no-progress"],
                         env=env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    before = proxy.count(f"/{BUCKET}/{PREFIX}camvid/")
    while proxy.count(f"/{BUCKET}/{PREFIX}camvid/") < before + 30 and time.monotonic() < deadline:
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    done = json.loads((out / "summary.json").read_text())["frames_scanned"]
    assert 0 < done < 101
    proxy.rules = []
    r = scan([url, "--endpoint-url", proxy.endpoint, "--out", out, "--heatmaps", "--resume", state, "--force"],
             tmp_path, check_status=(0,))
    assert f"{done} frames done, {101 - done} to scan" in r.stderr
    assert_same_results(one, out)


def test_ctrl_c_ends_gets_that_hang(proxy, local, tmp_path):
    """A server that stops answering: Ctrl-C ends the GETs in flight at once (not after --s3-timeout and
    its retries, nor by the CLI's watchdog), writes the results so far, and --resume reads the rest."""
    url = f"s3://{BUCKET}/{PREFIX}ade20k/"
    proxy.rules = [s3_server.Rule(lambda k: k.endswith(".png"), "stall", seconds=120)]
    out, state = tmp_path / "out", tmp_path / "scan.state"
    p = subprocess.Popen([CLI, "scan", url, "--endpoint-url", proxy.endpoint, "--out", str(out), "--save-state",
                          str(state), "--no-progress"], env=env(tmp_path), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while proxy.count(f"/{BUCKET}/{PREFIX}ade20k/") < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert time.monotonic() - t0 < 8  # well within the watchdog's 10 s
    s = json.loads((out / "summary.json").read_text())
    assert s["partial"] and s["frames_scanned"] == 0
    assert [e["error"] for e in s["errors"]] == ["cancelled"] * 4
    proxy.rules = []
    r = scan([url, "--endpoint-url", proxy.endpoint, "--out", out, "--resume", state, "--force"], tmp_path,
             check_status=(0,))
    assert "0 frames done, 4 to scan" in r.stderr
