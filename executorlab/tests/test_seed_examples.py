"""executorlib's own documentation examples (../shared/seeds), run unchanged but for the import."""

from executorlab import SingleNodeExecutor


def calc(i):
    from mpi4py import MPI

    size = MPI.COMM_WORLD.Get_size()
    rank = MPI.COMM_WORLD.Get_rank()
    return i, size, rank


def add_funct(a, b):
    return a + b


def test_sum_of_lists():
    with SingleNodeExecutor() as exe:
        future_lst = [exe.submit(sum, [i, i]) for i in range(1, 5)]
        assert [f.result() for f in future_lst] == [2, 4, 6, 8]


def test_calc_on_two_mpi_ranks():
    with SingleNodeExecutor() as exe:
        fs = exe.submit(calc, 3, resource_dict={"cores": 2})
        assert fs.result() == [(3, 2, 0), (3, 2, 1)]


def test_add_funct_chain():
    with SingleNodeExecutor() as exe:
        future = 0
        for i in range(4, 8):
            future = exe.submit(add_funct, i, future)
        assert future.result() == 22
