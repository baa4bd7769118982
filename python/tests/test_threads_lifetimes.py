"""Eight threads at once on one context; a context closed while other threads work on it;
arrays outliving their context; wrapped contexts cached per queue."""

from __future__ import annotations

import gc
import threading

import numpy as np

import leakycl
from conftest import assert_bits_equal, random_array, ref_backward, ref_forward


def test_eight_threads_share_a_context(device):
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(seed: int) -> None:
        try:
            start.wait()
            for i in range(20):
                dtype = [np.float32, np.float16, np.float64][(seed + i) % 3]
                x = random_array(np.dtype(dtype), 5000 + seed * 17 + i, seed * 100 + i)
                dy = random_array(np.dtype(dtype), x.size, seed * 100 + i + 1)
                alpha = 0.1 * (seed + 1)
                assert_bits_equal(leakycl.leaky_relu(x, alpha, ctx=device), ref_forward(x, alpha))
                assert_bits_equal(leakycl.leaky_relu_backward(x, dy, alpha, ctx=device), ref_backward(x, dy, alpha))
                y, mask = leakycl.leaky_relu_masked(x, alpha, ctx=device)
                assert_bits_equal(leakycl.leaky_relu_backward_masked(mask, dy, alpha, ctx=device),
                                  ref_backward(x, dy, alpha))
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_default_context_from_eight_threads():
    seen = []
    barrier = threading.Barrier(8)

    def work():
        barrier.wait()
        seen.append(leakycl.default_context())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and all(c is seen[0] for c in seen)


def test_context_closed_while_threads_work():
    """Calls in flight finish correctly; later calls get InvalidArgument; nothing crashes."""
    for spec in ("cpu", "opencl"):
        if spec == "opencl" and not any(d.spec.startswith("opencl") for d in leakycl.devices()):
            continue
        ctx = leakycl.Context(spec)
        x = random_array(np.dtype(np.float32), 1 << 18, 1)
        want = ref_forward(x, 0.1)
        outcomes: list[str] = []
        go = threading.Event()

        def work():
            go.wait()
            for _ in range(30):
                try:
                    y = leakycl.prelu(x.reshape(2, -1), np.array([0.1, 0.1], np.float32), 0, ctx=ctx)
                except leakycl.InvalidArgument as e:
                    outcomes.append("refused" if "closed" in str(e) else f"wrong error: {e}")
                    return
                except BaseException as e:  # noqa: BLE001 - reported by the main thread
                    outcomes.append(f"failed: {e!r}")
                    return
                try:
                    assert_bits_equal(y.ravel(), want)
                    outcomes.append("ok")
                except AssertionError as e:
                    outcomes.append(f"wrong result: {e}")

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        go.set()
        ctx.close()
        for t in threads:
            t.join()
        assert len(outcomes) >= 4 and set(outcomes) <= {"ok", "refused"}, outcomes


def test_arrays_outlive_their_context(device):
    x = random_array(np.dtype(np.float32), 1000, 2)
    with leakycl.Context(device.backend) as ctx:
        y = leakycl.leaky_relu(x, 0.3, ctx=ctx)
        _, mask = leakycl.leaky_relu_masked(x, 0.3, ctx=ctx)
    del ctx
    gc.collect()
    assert_bits_equal(y, ref_forward(x, 0.3))
    # the mask made under the closed context still works under another one
    dy = random_array(np.dtype(np.float32), 1000, 3)
    assert_bits_equal(leakycl.leaky_relu_backward_masked(mask, dy, 0.3, ctx=device), ref_backward(x, dy, 0.3))


def test_pyopencl_results_outlive_the_inputs(queue):
    import pyopencl.array as cla

    x = random_array(np.dtype(np.float32), 10_000, 4)
    xc = cla.to_device(queue, x)
    y = leakycl.leaky_relu(xc, 0.2)
    del xc
    gc.collect()
    assert_bits_equal(y.get(), ref_forward(x, 0.2))


def test_the_gil_is_released_while_the_device_works(queue):
    """A call blocked on the device must let other Python threads run: a staged write on the
    wrapped queue waits behind a user event that only this (main) thread can complete. Were
    the GIL held, the main thread could never complete it (the watchdog then fails the run)."""
    import faulthandler

    import pyopencl as cl

    gate = cl.UserEvent(queue.context)
    cl.enqueue_marker(queue, wait_for=[gate])
    ctx = leakycl.Context.wrap(queue)
    x = random_array(np.dtype(np.float32), 4096, 5).reshape(2, -1)
    result: list = []

    def work():
        result.append(leakycl.prelu(x, np.array([0.5, 0.5], np.float32), 0, ctx=ctx))

    faulthandler.dump_traceback_later(120, exit=True)
    try:
        t = threading.Thread(target=work)
        t.start()
        t.join(0.5)  # the worker is now (normally) blocked in the C library
        blocked = t.is_alive()
        gate.set_status(cl.command_execution_status.COMPLETE)
        t.join(60)
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert not t.is_alive() and result
    assert blocked, "the call returned before the gate opened: the queue did not wait"
    assert_bits_equal(result[0], ref_forward(x, 0.5))
