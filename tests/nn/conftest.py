"""One BLAS thread for the network tests.

The matrices here are small: a second BLAS thread saves little, and on a machine whose cores are
busy with other work the two threads wait for each other and a 1 ms product can take 15 ms.
"""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def single_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield
