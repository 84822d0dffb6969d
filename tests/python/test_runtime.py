"""The Python front-end at run time: Ctrl-C, the GIL, asyncio, memory over many scans."""
import asyncio
import os
import shutil
import signal
import threading
import time

import numpy as np
import pytest

import maskscan


FRAMES = 20000


@pytest.fixture(scope="module")
def slow(camvid, tmp_path_factory):
    """20,000 frames (hard links to real masks, ~0.1 ms each to scan): on one worker a scan lasts
    long enough (~2 s) to be interrupted in the middle, with the default decoder and queue, so that
    the time to stop is what a user sees (frames in flight are finished first)."""
    folder = tmp_path_factory.mktemp("slow")
    copies = folder.parent / "sources"  # hard links within the temporary directory's own filesystem
    copies.mkdir()
    sources = [shutil.copyfile(p, copies / p.name) for p in sorted(camvid.glob("*.png"))]
    for i in range(FRAMES):
        os.link(sources[i % len(sources)], folder / f"{i:05d}.png")
    return folder


SLOW = dict(labels="camvid11", workers=1)


def interrupt_after(seconds):
    """A progress callback that sends this process a real SIGINT from a timer thread `seconds` after
    the scan's first progress report (so that the scan is running, not listing its input); the
    time it was sent is in .sent."""
    def progress(p):
        if progress.timer is None:
            def fire():
                progress.sent = time.monotonic()
                os.kill(os.getpid(), signal.SIGINT)
            progress.timer = threading.Timer(seconds, fire)
            progress.timer.start()
    progress.timer, progress.sent = None, None
    return progress


def test_ctrl_c_stops_the_scan_quickly_with_the_partial_result(slow):
    progress = interrupt_after(0.2)
    with pytest.raises(KeyboardInterrupt) as info:
        maskscan.scan(slow, heatmaps=True, progress=progress, **SLOW)
    stopped = time.monotonic() - progress.sent
    progress.timer.join()
    r = info.value.result
    assert r.partial and r.status == "cancelled"
    assert 0 < r.totals["frames"] < FRAMES and r.frames_total == FRAMES
    assert stopped < 0.25, f"KeyboardInterrupt {stopped:.3f} s after SIGINT"
    # The partial statistics are exact for the frames they hold.
    heat = r.heatmaps[(480, 360)]
    assert int(heat.sum(dtype=np.uint64)) <= r.totals["frames"] * 480 * 360
    assert r.pixels.sum() == r.totals["labelled_pixels"]


def test_two_threads_scan_at_once_and_both_finish_exactly(camvid):
    expected = maskscan.scan(camvid, labels="camvid11", heatmaps=True)
    results, spans, errors = [None, None], [None, None], []

    def run(i):
        try:
            start = time.monotonic()
            results[i] = maskscan.scan(camvid, labels="camvid11", heatmaps=True, workers=1, decoder="spng")
            spans[i] = (start, time.monotonic())
        except BaseException as e:  # noqa: B902 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        assert r._core.frames_csv() == expected._core.frames_csv()
        np.testing.assert_array_equal(r.heatmaps[(480, 360)], expected.heatmaps[(480, 360)])
    # The GIL is free while a scan runs: the two ran at the same time, not one after the other.
    assert max(s[0] for s in spans) < min(s[1] for s in spans)


def test_scan_async_does_not_block_the_event_loop(slow, tmp_path):
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
        await asyncio.sleep(0.05)  # ticking before the scan is asked for: its set-up is measured too
        r = await maskscan.scan_async(slow, out=tmp_path / "out", **SLOW)
        stop.set()
        await beat
        return r

    r = asyncio.run(main())
    assert r.totals["frames"] == FRAMES and (tmp_path / "out" / "frames.csv").is_file()
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
    assert 0 < error.result.totals["frames"] < FRAMES


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_memory_does_not_grow_over_200_scans(camvid, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    for p in sorted(camvid.glob("*.png"))[:8]:
        shutil.copyfile(p, small / p.name)

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


def test_an_exception_in_the_progress_callback_stops_the_scan(slow):
    calls = []

    def progress(p):
        calls.append(p)
        if len(calls) == 2:
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough") as info:
        maskscan.scan(slow, progress=progress, **SLOW)
    r = info.value.result
    assert r.partial and r.status == "cancelled" and 0 < r.totals["frames"] < FRAMES


def test_interrupted_scans_leave_nothing_behind(slow):
    def interrupted():
        progress = interrupt_after(0.05)
        with pytest.raises(KeyboardInterrupt) as info:
            maskscan.scan(slow, heatmaps=True, progress=progress, **SLOW)
        progress.timer.join()
        assert info.value.result.partial
        del info

    interrupted()
    threads = threading.active_count()
    before = _rss_bytes()
    for _ in range(8):
        interrupted()
    assert threading.active_count() == threads  # the scans' threads ended
    grown = _rss_bytes() - before
    assert grown < 8 << 20, f"RSS grew by {grown / 2**20:.1f} MiB over 8 interrupted scans"
