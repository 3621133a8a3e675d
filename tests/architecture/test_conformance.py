"""Conformance: every registered Theory, Sampler and Backend keeps the common contracts.

The suite walks the registries (:mod:`qlat.core.registry`), so a new plug-in is checked the
moment it registers: shapes and batch axis, parameter and JSON round trips, determinism under a
seed, bit-for-bit resumable chains, result keys and units, clear errors for what is unsupported.
Each plug-in supplies a small instance through ``example()`` (docs/architecture.md).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from qlat.core.errors import NoRealizationError, ParameterError, QlatError
from qlat.core.estimate import Estimate
from qlat.core.observable_registry import OBSERVABLES
from qlat.core.options import Option
from qlat.core.registry import BACKENDS, SAMPLERS, THEORIES

torch = pytest.importorskip("torch")

THEORY_NAMES = THEORIES.names()
SAMPLER_NAMES = SAMPLERS.names()
BACKEND_NAMES = BACKENDS.names()
KEY = re.compile(r"^[a-z][a-z0-9_]*(\[\d+(,\d+)*\])?$")


def _first_supported(sampler_name, workdir):
    """The first registered theory whose example the sampler's example supports, with that sampler."""
    cls = SAMPLERS.get(sampler_name)
    for t in THEORY_NAMES:
        theory = THEORIES.get(t).example()
        sampler = cls.example(theory, workdir)
        if sampler.supports(theory):
            return theory, sampler
    pytest.skip(f"no registered theory has an example that {sampler_name} supports")


def _roundtrip_json(params):
    return json.loads(json.dumps(params))


# ----------------------------------------------------------------------------------- theories
@pytest.mark.parametrize("name", THEORY_NAMES)
def test_theory_declares_its_interface(name):
    cls = THEORIES.get(name)
    assert all(isinstance(o, Option) for o in cls.OPTIONS)
    assert all(o.flag.startswith("--") for o in cls.OPTIONS)
    theory = cls.example()
    assert theory.name == name
    defaults = theory.default_observables()
    assert defaults, "a theory reports at least one observable by default"
    for obs in defaults:
        assert OBSERVABLES.get(obs).supports(theory), f"{obs} has no realization on {name}"


@pytest.mark.parametrize("name", THEORY_NAMES)
def test_theory_params_round_trip_through_json(name):
    from qlat.theories.base import theory_from_params

    theory = THEORIES.get(name).example()
    params = theory.params()
    assert params["name"] == name and "shape" in params
    rebuilt = theory_from_params(_roundtrip_json(params))
    assert rebuilt.params() == params


@pytest.mark.parametrize("name", THEORY_NAMES)
def test_theory_batch_axis_determinism_and_log_prob(name):
    theory = THEORIES.get(name).example()
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    a, b = theory.hot_start(3, generator=g1), theory.hot_start(3, generator=g2)
    assert tuple(a.shape) == (3, *theory.field_shape) and a.dtype == torch.float64
    assert torch.equal(a, b), "hot_start must be a function of the generator state"
    s = theory.action(a)
    assert tuple(s.shape) == (3,) and torch.isfinite(s).all()
    assert torch.allclose(theory.log_prob(a), -s, rtol=0, atol=1e-12)
    # the batch axis is independent: the action of one configuration does not see the others
    assert torch.allclose(theory.action(a[1:2]), s[1:2], rtol=1e-12, atol=1e-12)
    canon = theory.canonicalize(a)
    assert torch.equal(theory.canonicalize(canon), canon), "canonicalize must be idempotent"
    assert torch.allclose(theory.action(canon), s, rtol=1e-10, atol=1e-10)
    cold = theory.cold_start(2)
    assert tuple(cold.shape) == (2, *theory.field_shape)


@pytest.mark.parametrize("name", THEORY_NAMES)
def test_theory_force_is_the_gradient_of_the_action(name):
    theory = THEORIES.get(name).example()
    fields = theory.hot_start(2, generator=torch.Generator().manual_seed(2))
    from qlat.theories.base import DifferentiableAction

    if not isinstance(theory, DifferentiableAction):
        pytest.skip(f"{name} has no force (not an HMC theory)")
    force = theory.force(fields)
    x = fields.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(theory.action(x).sum(), x)
    assert torch.allclose(force, grad, rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------------------------- samplers
@pytest.mark.parametrize("name", SAMPLER_NAMES)
def test_sampler_params_round_trip(name, tmp_path):
    from qlat.samplers.base import sampler_from_params

    assert all(isinstance(o, Option) for o in SAMPLERS.get(name).OPTIONS)
    theory, sampler = _first_supported(name, tmp_path)
    params = sampler.params()
    assert params["name"] == name
    assert sampler_from_params(_roundtrip_json(params)).params() == params


@pytest.mark.parametrize("sampler_name", SAMPLER_NAMES)
def test_chain_is_deterministic_and_resumable_bit_for_bit(sampler_name, tmp_path):
    theory, sampler = _first_supported(sampler_name, tmp_path)
    state0 = sampler.init_state(theory, chains=2, seed=11)
    whole, end = sampler.run(theory, 4, state=state0)
    again, _ = sampler.run(theory, 4, state=sampler.init_state(theory, chains=2, seed=11))
    assert torch.equal(whole.configurations, again.configurations)
    first, mid = sampler.run(theory, 1, state=sampler.init_state(theory, chains=2, seed=11))
    rest, end2 = sampler.run(theory, 3, state=mid)
    assert torch.equal(torch.cat([first.configurations, rest.configurations]), whole.configurations)
    assert torch.equal(end.fields, end2.fields)
    assert tuple(whole.configurations.shape) == (4, 2, *theory.field_shape)
    assert whole.accepted.shape == (4, 2) and np.all((0 <= whole.accepted) & (whole.accepted <= 1))


@pytest.mark.parametrize("name", SAMPLER_NAMES)
def test_sampler_refuses_what_it_cannot_sample(name, tmp_path):
    cls = SAMPLERS.get(name)
    for t in THEORY_NAMES:
        theory = THEORIES.get(t).example()
        sampler = cls.example(theory, tmp_path)
        if not sampler.supports(theory):
            with pytest.raises(QlatError):
                state = sampler.init_state(theory, chains=1, seed=0)
                sampler.run(theory, 1, state=state)


# ----------------------------------------------------------------------------------- backends
@pytest.fixture(scope="module")
def backend_results(tmp_path_factory):
    """Each backend's estimates of every observable it offers on its example target (run once)."""
    from qlat.core.backend import get_backend

    out = {}
    for name in BACKEND_NAMES:
        backend = get_backend(name)
        if not callable(getattr(backend, "example", None)):
            out[name] = None
            continue
        target, options = backend.example(tmp_path_factory.mktemp(name))
        names = [o for o in backend.observables(target) if o in OBSERVABLES or o == "gap" or o == "acceptance"]
        out[name] = (backend, target, options, names, backend.estimate(target, names, **options))
    return out


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_backend_declares_itself(name):
    from qlat.core.backend import Backend, get_backend

    backend = get_backend(name)
    assert isinstance(backend, Backend), f"{name} misses part of the Backend protocol"
    assert backend.name == name.split(":")[0] and backend.label and backend.description
    assert not backend.supports(object())


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_backend_results_are_keyed_estimates_with_units(name, backend_results):
    if backend_results[name] is None:
        pytest.skip(f"{name} has no example target")
    backend, target, options, names, result = backend_results[name]
    assert backend.supports(target)
    assert result, f"{name} returned nothing"
    for key, est in result.items():
        assert isinstance(est, Estimate) and KEY.match(key), key
        base = key.split("[")[0]
        assert base in names
        if base in OBSERVABLES:
            expected = OBSERVABLES.get(base).unit_on(target)
            assert est.unit == expected, f"{name} {key}: unit {est.unit!r}, the observable says {expected!r}"
        else:
            assert est.unit, f"{name} {key}: an Estimate without a unit"
        assert Estimate.from_json(est.to_json()) == est
        assert est.backend, "every Estimate names what produced it"
    for base in names:
        assert base in result or any(k.startswith(base + "[") for k in result), f"{base} missing"


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_backend_is_deterministic_under_its_seed(name, backend_results):
    if backend_results[name] is None:
        pytest.skip(f"{name} has no example target")
    backend, target, options, names, result = backend_results[name]
    again = backend.estimate(target, names, **options)  # the same request (the observables set the circuits)
    for key, est in again.items():
        assert est.value == result[key].value and est.error == result[key].error, key


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_backend_refuses_an_unknown_observable(name, backend_results):
    if backend_results[name] is None:
        pytest.skip(f"{name} has no example target")
    backend, target, options, _, _ = backend_results[name]
    with pytest.raises((ParameterError, NoRealizationError)):
        backend.estimate(target, ["no_such_observable"], **options)
