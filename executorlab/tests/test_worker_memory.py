"""Which worker-memory entries a call receives (executorlib's rule), for every kind of callable."""

from executorlab.worker.loop import _with_memory

MEMORY = {"executorlib_worker_id": 1, "j": 4, "k": 3}


def calc_with_preload(i, j, k):
    return i + j + k


def keyword_only(i, *, j=0, executorlib_worker_id=None):
    return i, j, executorlib_worker_id


def positional_only(j, /, k):
    return j, k


class Holder:
    def method(self, i, j=0):
        return i + j


def test_missing_parameters_are_filled_but_not_those_the_caller_passed():
    assert _with_memory(calc_with_preload, (2,), {"j": 5}, MEMORY) == {"j": 5, "k": 3}
    assert calc_with_preload(2, **_with_memory(calc_with_preload, (2,), {"j": 5}, MEMORY)) == 10


def test_keyword_only_parameters_and_the_worker_id():
    assert _with_memory(keyword_only, (1,), {}, MEMORY) == {"j": 4, "executorlib_worker_id": 1}


def test_positional_only_parameters_are_not_filled():
    assert _with_memory(positional_only, (), {}, MEMORY) == {"k": 3}


def test_bound_methods_skip_self():
    assert _with_memory(Holder().method, (1,), {}, MEMORY) == {"j": 4}


def test_builtins_and_empty_memory_take_nothing():
    assert _with_memory(sum, ([1],), {}, MEMORY) == {}
    assert _with_memory(calc_with_preload, (1,), {}, {}) == {}
