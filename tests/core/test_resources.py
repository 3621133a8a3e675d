import pytest

from qlat.core.errors import ParameterError
from qlat.core.resources import available_memory, human_bytes, require_disk, require_memory


def test_absurd_sizes_are_refused_with_the_estimate(tmp_path):
    assert available_memory() > 2**20
    require_memory(1024, "--sites", "a tiny run")
    with pytest.raises(ParameterError, match=r"--sites: the state vector would need about 1.64e\+04 EiB"):
        require_memory(2.0**74, "--sites", "the state vector")
    with pytest.raises(ParameterError, match="--n"):
        require_memory(float("inf"), "--n", "x")
    with pytest.raises(ParameterError, match="disk"):
        require_disk(2.0**80, tmp_path / "not-yet", "--out", "the ensemble")
    assert human_bytes(3 * 2**30) == "3 GiB"
