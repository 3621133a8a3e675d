import pytest
import torch


@pytest.fixture(autouse=True)
def _single_torch_thread():
    """The sampler tests run small batched tensors: one intra-op thread is several times faster
    than two on a shared 2-core machine (no spin-waiting); restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
