"""Futures as arguments: resolved in the bridge, at any depth, with failures and cancellations passed on."""

import threading
import time
from concurrent.futures import CancelledError, Future, as_completed, wait

import pytest

from executorlab import SingleNodeExecutor, get_item_from_future, split_future


def add(a, b):
    return a + b


def total(*parts, **named):
    def flatten(value):
        if isinstance(value, dict):
            return sum(flatten(v) for v in value.values())
        if isinstance(value, (list, tuple, set, frozenset)):
            return sum(flatten(v) for v in value)
        return value

    return flatten(parts) + flatten(named)


def fail(message):
    raise KeyError(message)


def slow(value, seconds):
    time.sleep(seconds)
    return value


class Box:
    def __init__(self, content):
        self.content = content


def open_box(box):
    return box.content


def test_futures_nested_in_lists_tuples_dicts_sets_and_objects():
    with SingleNodeExecutor() as exe:
        one = exe.submit(add, 0, 1)
        two = exe.submit(add, 1, 1)
        nested = exe.submit(total, [one, (two, [one])], {"a": {"b": two}}, {one}, frozenset({two}), extra=(one,))
        boxed = exe.submit(open_box, Box([two, {"k": (one,)}]))
        assert nested.result(timeout=60) == 1 + 2 + 1 + 2 + 1 + 2 + 1
        assert boxed.result(timeout=60) == [2, {"k": (1,)}]


def test_dependent_waits_in_the_bridge_not_in_submit():
    with SingleNodeExecutor() as exe:
        upstream = exe.submit(slow, 5, 3.0)
        started = time.monotonic()
        dependent = exe.submit(add, upstream, 1)
        assert time.monotonic() - started < 2.0  # far less than the upstream's 3 s
        assert not dependent.done()
        assert dependent.result(timeout=60) == 6


def test_failed_dependency_fails_dependents_with_the_upstream_exception():
    with SingleNodeExecutor() as exe:
        upstream = exe.submit(fail, "boom")
        middle = exe.submit(add, upstream, 1)
        last = exe.submit(add, middle, 1)
        unrelated = exe.submit(add, 2, 2)
        for future in (middle, last):
            error = future.exception(timeout=60)
            assert type(error) is KeyError and error.args == ("boom",)
            assert "in fail" in error.__cause__.tb
        assert unrelated.result(timeout=60) == 4
        # Submitting against the already failed future fails at once, without running.
        assert type(exe.submit(add, upstream, 1).exception(timeout=10)) is KeyError


def test_cancelled_dependency_cancels_dependents():
    with SingleNodeExecutor(max_workers=1) as exe:
        blocker = exe.submit(slow, 0, 1.0)
        queued = exe.submit(add, 1, 1)
        dependent = exe.submit(add, queued, 1)
        assert queued.cancel()
        with pytest.raises(CancelledError):
            dependent.result(timeout=30)
        assert dependent.cancelled()
        assert blocker.result(timeout=30) == 0
        assert exe.submit(add, 1, 2).result(timeout=30) == 3


def test_selected_items_of_a_future():
    with SingleNodeExecutor() as exe:
        pair = exe.submit(add, (1,), (2,))
        first, second = split_future(pair, 2)
        assert exe.submit(add, first, second).result(timeout=60) == 3
        mapping = exe.submit(dict, a=1, b={"c": 5})
        assert exe.submit(add, get_item_from_future(get_item_from_future(mapping, "b"), "c"), 1).result(timeout=60) == 6


def test_a_foreign_future_defers_the_call_until_it_is_done():
    with SingleNodeExecutor() as exe:
        foreign = Future()
        dependent = exe.submit(add, foreign, 1)
        threading.Timer(0.3, foreign.set_result, args=(41,)).start()
        assert dependent.result(timeout=60) == 42


def test_futures_work_with_wait_as_completed_and_callbacks():
    with SingleNodeExecutor(max_workers=2) as exe:
        futures = [exe.submit(add, i, i) for i in range(4)]
        seen = []
        futures[0].add_done_callback(lambda f: seen.append(f.result()))
        assert sorted(f.result() for f in as_completed(futures, timeout=60)) == [0, 2, 4, 6]
        done, not_done = wait(futures, timeout=60)
        assert len(done) == 4 and not not_done
        assert seen == [0]


def test_map_and_map_over_a_future():
    with SingleNodeExecutor() as exe:
        assert list(exe.map(add, [1, 2, 3], [10, 20, 30])) == [11, 22, 33]
        values = exe.submit(list, range(3))
        assert list(exe.map(add, values, [1, 1, 1])) == [1, 2, 3]


def test_batched_groups_results_in_completion_order_and_skips_failures():
    with SingleNodeExecutor() as exe:
        inputs = [exe.submit(add, i, 0) for i in range(5)] + [exe.submit(fail, "x")]
        batches = exe.batched(inputs, 2)
        assert len(batches) == 3
        results = [b.result(timeout=60) for b in batches]
        assert sorted(v for batch in results for v in batch) == [0, 1, 2, 3, 4]
        assert [len(batch) for batch in results] == [2, 2, 1]


def test_batched_fails_only_when_every_remaining_input_failed():
    with SingleNodeExecutor() as exe:
        batches = exe.batched([exe.submit(fail, "a"), exe.submit(fail, "b")], 1)
        for batch in batches:
            assert type(batch.exception(timeout=60)) is KeyError


def test_disable_dependencies_refuses_futures_at_submit():
    with SingleNodeExecutor(disable_dependencies=True) as exe:
        upstream = exe.submit(add, 1, 1)
        with pytest.raises(ValueError, match="disable_dependencies=True"):
            exe.submit(add, upstream, 1)
        with pytest.raises(NotImplementedError):
            exe.batched([upstream], 1)
        assert upstream.result(timeout=60) == 2


def test_shutdown_with_cancel_futures_returns_and_cancelled_futures_count_as_done():
    exe = SingleNodeExecutor(max_workers=1)
    futures = [exe.submit(slow, i, 0.5) for i in range(3)]
    deadline = time.monotonic() + 30
    while not futures[0].running() and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    exe.shutdown(cancel_futures=True)
    assert time.monotonic() - started < 30
    assert futures[0].result() == 0
    assert all(f.cancelled() for f in futures[1:])
    done, not_done = wait(futures, timeout=5)
    assert not not_done


def test_a_future_cancelled_by_the_caller_is_seen_by_wait():
    with SingleNodeExecutor(max_workers=1) as exe:
        blocker = exe.submit(slow, 0, 0.5)
        queued = exe.submit(add, 1, 1)
        assert queued.cancel()
        done, _ = wait([queued], timeout=5)
        assert queued in done
        assert blocker.result(timeout=30) == 0
