"""The package as docs/python.md installs it: a venv with the system's site packages, then
`pip install --no-build-isolation .` (offline), and `import maskscan` from outside the checkout.
MASKSCAN_BUILD_DIR (set by ctest) lets setup.py build the module in the test's own CMake build, so
that the library is not compiled a second time; the rest is pip's whole flow."""
import os
import pathlib
import subprocess
import sys

import pytest

SOURCE = pathlib.Path(os.environ.get("MASKSCAN_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


def run(argv, **kw):
    out = subprocess.run(argv, capture_output=True, text=True, **kw)
    assert out.returncode == 0, f"{argv}: exit {out.returncode}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    if "MASKSCAN_BUILD_DIR" not in os.environ:
        pytest.skip("MASKSCAN_BUILD_DIR is not set (ctest sets it)")
    where = tmp_path_factory.mktemp("venv") / ".venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", str(where)])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run([str(where / "bin" / "pip"), "install", "--no-build-isolation", "--no-index", "--no-deps", str(SOURCE)],
        env=env, cwd=str(where.parent))
    return where, env


def test_pip_installs_a_package_that_scans(venv, camvid):
    where, env = venv
    code = (
        "import json, maskscan, pathlib, sys\n"
        "assert 'site-packages' in maskscan.__file__, maskscan.__file__\n"
        f"r = maskscan.scan({str(camvid)!r}, labels='camvid11')\n"
        "print(json.dumps({'file': maskscan.__file__, 'pixels': [int(v) for v in r.pixels]}))\n"
    )
    out = run([str(where / "bin" / "python"), "-c", code], env=env, cwd=str(where.parent))
    import json

    import maskscan
    got = json.loads(out.strip().splitlines()[-1])
    assert got["pixels"] == [int(v) for v in maskscan.scan(camvid, labels="camvid11").pixels]
    stubs = pathlib.Path(got["file"]).parent
    assert (stubs / "py.typed").exists() and (stubs / "__init__.pyi").exists()


def test_a_wheel_builds_the_same_way(venv, tmp_path):
    where, env = venv
    run([str(where / "bin" / "pip"), "wheel", "--no-build-isolation", "--no-index", "--no-deps", "-w", str(tmp_path),
         str(SOURCE)], env=env, cwd=str(tmp_path))
    wheels = list(tmp_path.glob("maskscan-*.whl"))
    assert len(wheels) == 1
    import zipfile
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert any(n.startswith("maskscan/_core") and n.endswith(".so") for n in names)
    assert "maskscan/__init__.py" in names and "maskscan/torch.py" in names
