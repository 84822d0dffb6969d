"""The Python front-end at run time: Ctrl-C, the GIL, asyncio, memory over many scans."""
import asyncio
import os
import signal
import threading
import time

import numpy as np
import pytest

import maskscan


@pytest.fixture(scope="module")
def slow(camvid, tmp_path_factory):
    """4,000 frames (hard links to real masks): a scan with the reference decoder on one worker
    lasts long enough (> 1 s) to be interrupted in the middle."""
    folder = tmp_path_factory.mktemp("slow")
    sources = sorted(camvid.glob("*.png"))
    for i in range(4000):
        os.link(sources[i % len(sources)], folder / f"{i:05d}.png")
    return folder


SLOW = dict(labels="camvid11", decoder="spng", workers=1)


def test_ctrl_c_stops_the_scan_quickly_with_the_partial_result(slow):
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt) as info:
        maskscan.scan(slow, heatmaps=True, **SLOW)
    stopped = time.monotonic() - start
    timer.join()
    r = info.value.result
    assert r.partial and r.status == "cancelled"
    assert 0 < r.totals["frames"] < 4000 and r.frames_total == 4000
    assert stopped < 0.3 + 0.25, f"KeyboardInterrupt {stopped - 0.3:.3f} s after SIGINT"
    # The partial statistics are exact for the frames they hold.
    heat = r.heatmaps[(480, 360)]
    assert int(heat.sum(dtype=np.uint64)) <= r.totals["frames"] * 480 * 360
    assert r.pixels.sum() == r.totals["labelled_pixels"]


def test_two_threads_scan_at_once_and_both_finish_exactly(camvid, slow):
    expected = maskscan.scan(camvid, labels="camvid11", heatmaps=True)
    results, errors = [None, None], []
    ticks = []

    def run(i):
        try:
            results[i] = maskscan.scan(camvid, labels="camvid11", heatmaps=True, workers=1, decoder="spng")
        except BaseException as e:  # noqa: B902 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):  # the GIL is free while they scan: this loop runs
        ticks.append(time.monotonic())
        time.sleep(0.005)
    assert not errors
    for r in results:
        assert r._core.frames_csv() == expected._core.frames_csv()
        np.testing.assert_array_equal(r.heatmaps[(480, 360)], expected.heatmaps[(480, 360)])
    assert len(ticks) >= 3


def test_scan_async_does_not_block_the_event_loop(slow):
    gaps = []

    async def main():
        stop = asyncio.Event()

        async def heartbeat():
            last = time.monotonic()
            while not stop.is_set():
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        beat = asyncio.create_task(heartbeat())
        r = await maskscan.scan_async(slow, **SLOW)
        stop.set()
        await beat
        return r

    r = asyncio.run(main())
    assert r.totals["frames"] == 4000
    assert len(gaps) > 20
    assert np.median(gaps) < 0.03 and max(gaps) < 0.25, (np.median(gaps), max(gaps))


def test_cancelling_the_task_stops_the_scan_with_the_partial_result(slow):
    async def main():
        task = asyncio.create_task(maskscan.scan_async(slow, **SLOW))
        await asyncio.sleep(0.3)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError as e:
            return e

    error = asyncio.run(main())
    assert error is not None and error.result.partial
    assert 0 < error.result.totals["frames"] < 4000


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_memory_does_not_grow_over_200_scans(camvid, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    for p in sorted(camvid.glob("*.png"))[:8]:
        os.link(p, small / p.name)

    def one():
        r = maskscan.scan(small, labels="camvid11", heatmaps=True)
        _ = r.heatmaps, r.pixels, r.frames, r.weights("enet")

    for _ in range(20):  # warm up: allocator pools, numpy and pandas caches
        one()
    before = _rss_bytes()
    for _ in range(200):
        one()
    grown = _rss_bytes() - before
    assert grown < 8 << 20, f"RSS grew by {grown / 2**20:.1f} MiB over 200 scans"
