"""The SLMC/SLHMC model directory (qlat/samplers/model_directory.py): files, checksum, no unpickling."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.samplers.model_directory import CARD_NAME, WEIGHTS_NAME, load_weights, write_model_directory


class _Payload:
    """A pickle that creates a file when it is unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_round_trip_card_and_checksum(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2, dtype=torch.float64)
    card = write_model_directory(tmp_path / "m", model, {"format": "test/1", "config": {"n": 3}})
    assert json.loads((tmp_path / "m" / CARD_NAME).read_text()) == card
    assert card["weights_sha256"] == hashlib.sha256((tmp_path / "m" / WEIGHTS_NAME).read_bytes()).hexdigest()
    other = torch.nn.Linear(3, 2, dtype=torch.float64)
    load_weights(other, tmp_path / "m" / WEIGHTS_NAME)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), other.state_dict().values(),
                                                 strict=True))
    with pytest.raises(ParameterError, match="do not fit") as info:
        load_weights(torch.nn.Linear(4, 2), tmp_path / "m" / WEIGHTS_NAME)
    assert info.value.parameter == "model"


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_pickle_is_never_executed(tmp_path):
    marker = tmp_path / "executed"
    weights = tmp_path / WEIGHTS_NAME
    weights.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ParameterError):
        load_weights(torch.nn.Linear(3, 2), weights)
    assert not marker.exists()
