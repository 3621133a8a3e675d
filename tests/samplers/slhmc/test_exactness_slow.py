"""Long runs (``-m slow``): SLHMC with a self-learned linear model against det-hmc on 8×8 at two points
near κ_c(β) for N_f = 2 and one for N_f = 1 (signs reweighted, ⟨O s⟩/⟨s⟩): plaquette, ⟨Q²⟩ and ψ̄ψ
agree within 3σ (issue 20)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from qlat.core.lattice import Lattice
from qlat.samplers.exact_determinant import ExactDeterminantHMC
from qlat.samplers.slhmc.sampler import SLHMC
from qlat.samplers.slhmc.selflearn import train_self_learning
from qlat.theories.schwinger_wilson import SchwingerTheory


def _series(theory, batch):
    n, chains = batch.configurations.shape[:2]
    flat = batch.configurations.reshape(-1, *theory.field_shape)
    q = theory.topological_charge(flat).numpy()
    return {"plaquette": theory.mean_plaquette(flat).numpy().reshape(n, chains), "q2": (q * q).reshape(n, chains),
            "psibarpsi": theory.condensate(flat).numpy().reshape(n, chains)}


@pytest.mark.slow
@pytest.mark.parametrize(("beta", "kappa", "nf"), [(2.0, 0.27, 2), (4.0, 0.26, 2), (2.0, 0.27, 1)])
def test_slhmc_agrees_with_det_hmc(beta, kappa, nf, tmp_path):
    from qlat.analysis.statistics import derived_estimate, gamma_estimate

    torch.set_num_threads(1)
    theory = SchwingerTheory(Lattice((8, 8)), beta=beta, kappa=kappa, nf=nf)
    train_self_learning(theory, tmp_path / "m", layers=0, rounds=1, n=30, chains=8, seed=1, every=2)
    n, chains = 250, 8
    slhmc = SLHMC(model=str(tmp_path / "m"), n_steps=10, thermalization=30)
    a, _ = slhmc.run(theory, n, state=slhmc.init_state(theory, chains=chains, seed=2))
    det = ExactDeterminantHMC(n_steps=10, thermalization=30)
    b, _ = det.run(theory, n, state=det.init_state(theory, chains=chains, seed=3))
    sa, sb = _series(theory, a), _series(theory, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sa:
            if nf == 1:  # ⟨O s⟩/⟨s⟩ with s = sign det D
                ea = derived_estimate(lambda x, y: x / y, sa[name] * a.meta["sign"], a.meta["sign"])
                eb = derived_estimate(lambda x, y: x / y, sb[name] * b.meta["sign"], b.meta["sign"])
            else:
                ea, eb = gamma_estimate(sa[name]), gamma_estimate(sb[name])
            z = (ea.value - eb.value) / math.hypot(ea.error, eb.error)
            print(f"beta={beta} kappa={kappa} nf={nf} {name}: slhmc {ea} det-hmc {eb} z={z:+.2f}")
            assert abs(z) < 3, (name, ea, eb, z)
        accept = gamma_estimate(np.exp(-a.delta_h))
    assert abs(accept.value - 1) < 3 * accept.error
