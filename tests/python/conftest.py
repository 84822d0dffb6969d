"""Shared fixtures of the Python front-end's tests (run by ctest: tests/CMakeLists.txt sets
PYTHONPATH to the build's python/ and MASKSCAN_CLI, MASKSCAN_TEST_DATA)."""
import os
import pathlib
import shutil

import pytest

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def data() -> pathlib.Path:
    """../shared/data beside the checkout, or MASKSCAN_TEST_DATA."""
    root = pathlib.Path(os.environ.get("MASKSCAN_TEST_DATA", HERE / ".." / ".." / ".." / "shared" / "data"))
    if not (root / "real").is_dir():
        pytest.skip(f"no test data at {root}")
    return root


@pytest.fixture(scope="session")
def cli() -> str:
    """The maskscan executable of the same build."""
    path = os.environ.get("MASKSCAN_CLI") or shutil.which("maskscan")
    if not path:
        pytest.skip("MASKSCAN_CLI is not set")
    return path


@pytest.fixture(scope="session")
def camvid(data) -> pathlib.Path:
    """101 real CamVid masks, 480x360 (values 0-11; 11 is CamVid's Unlabelled)."""
    return data / "real" / "gray8_ids" / "camvid_segnet"
