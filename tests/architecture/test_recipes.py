"""The recipes of docs/architecture.md, followed: a theory, a sampler, a backend and an observable.

Each recipe is written out as a third-party plug-in package in a temporary folder, exactly as the doc
says (one module, a decorator, an entry point), and "installed" the way ``pip install -e .`` installs
it: the package importable and a ``*.dist-info`` folder whose ``entry_points.txt`` declares the names
(the registries read entry points from installed metadata, never from ``pyproject.toml``).  The plug-ins
are then used only through the public surface — the registries, ``qlat.sample``, ``qlat.estimate``,
``qlat sample THEORY --help`` / ``qlat sample`` / ``qlat measure`` — and checked by the conformance
suite's own tests.  The physics is checked too: the theory is a Gaussian field whose ⟨φ²⟩ the backend
computes exactly, and both samplers must reproduce it within their error bars (and a wrong κ must not).
"""

from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

from qlat.core.errors import ParameterError
from qlat.core.observable_registry import OBSERVABLES
from qlat.core.registry import BACKENDS, SAMPLERS, THEORIES

torch = pytest.importorskip("torch")

PACKAGE = "qlat_recipe_toy"

# --- "Add a theory": one module, @THEORIES.register, OPTIONS, from_params/from_options/example, the
#     protocol methods, its observables' realizations registered in the same module -----------------------
THEORY = '''
r"""A Gaussian scalar field with hopping parameter κ: S[φ] = Σ_x [φ_x² − 2κ Σ_μ φ_x φ_{x+μ̂}], 0 <= κ < 1/(2d)."""

from qlat.core.errors import require
from qlat.core.lattice import Lattice
from qlat.core.observable_catalogue import MAGNETIZATION
from qlat.core.options import Option
from qlat.core.registry import THEORIES
from qlat.theories.base import check_field_shape


def magnetization(fields):
    """M/V per configuration."""
    return fields.reshape(fields.shape[0], -1).mean(1)


@THEORIES.register("my-theory")
class MyTheory:
    name = "my-theory"
    OPTIONS = (Option("--kappa", "kappa", float, "hopping parameter κ (>= 0, < 1/(2d))", required=True),)
    DEFAULT_OBSERVABLES = ("magnetization",)

    def __init__(self, lattice, *, kappa):
        require(isinstance(lattice, Lattice), "lattice", "must be a qlat Lattice", type(lattice).__name__)
        require(0 <= kappa < 1 / (2 * lattice.ndim), "kappa", "must be in [0, 1/(2d))", kappa)
        self.lattice = lattice
        self.kappa = float(kappa)
        self.field_shape = lattice.shape

    @classmethod
    def from_params(cls, params):
        return cls(Lattice(tuple(params["shape"])), kappa=params["kappa"])

    @classmethod
    def from_options(cls, *, L, ndim, kappa):
        return cls(Lattice((L,) * ndim), kappa=kappa)

    @classmethod
    def example(cls):
        return cls(Lattice((4, 4)), kappa=0.1)

    def neighbour_sum(self, fields):
        """Σ_μ (φ_{x+μ̂} + φ_{x−μ̂}) (SiteLocalAction)."""
        import torch

        return sum(torch.roll(fields, s, dims=1 + mu) for mu in range(self.lattice.ndim) for s in (1, -1))

    def local_action(self, value, neighbour_sum):
        """The part of S that depends on one site (SiteLocalAction)."""
        return value * value - 2.0 * self.kappa * value * neighbour_sum

    def action(self, fields):
        check_field_shape(fields, self.field_shape)
        density = fields * fields - self.kappa * fields * self.neighbour_sum(fields)
        return density.reshape(fields.shape[0], -1).sum(1)

    def force(self, fields):
        check_field_shape(fields, self.field_shape)
        return 2.0 * fields - 2.0 * self.kappa * self.neighbour_sum(fields)

    def log_prob(self, fields):
        return -self.action(fields)

    def canonicalize(self, fields):
        return fields

    def params(self):
        return {"name": self.name, "shape": list(self.lattice.shape), "kappa": self.kappa}

    def default_observables(self):
        return list(self.DEFAULT_OBSERVABLES)

    def cold_start(self, batch):
        import torch

        return torch.zeros((batch, *self.field_shape), dtype=torch.float64)

    def hot_start(self, batch, *, generator):
        import torch

        return 0.5 * torch.randn((batch, *self.field_shape), dtype=torch.float64, generator=generator)


MAGNETIZATION.register(MyTheory, lambda theory: magnetization)
'''

# --- "Add a sampler": @SAMPLERS.register, OPTIONS with COMMON_OPTIONS, params/from_params, supports asking
#     a theory protocol, init_state (make_initial_state), run (run_chain with a step function) ---------------
SAMPLER = '''
"""Random-walk Metropolis of the whole field at once: φ' = φ + w η, accepted with min(1, e^{−ΔS})."""

import numpy as np

from qlat.core.errors import require
from qlat.core.options import Option
from qlat.core.registry import SAMPLERS
from qlat.samplers.base import COMMON_OPTIONS, check_int, from_params_by_keywords, make_initial_state, run_chain


@SAMPLERS.register("mine")
class RandomWalk:
    name = "mine"
    OPTIONS = COMMON_OPTIONS + (Option("--width", "width", float, "proposal width w (> 0)", default=0.3),)

    def __init__(self, *, width=0.3, thermalization=0, every=1):
        require(width > 0, "width", "must be > 0", width)
        self.width = float(width)
        self.thermalization = check_int(thermalization, "thermalization", 0)
        self.every = check_int(every, "every", 1)

    def params(self):
        return {"name": self.name, "width": self.width, "thermalization": self.thermalization, "every": self.every}

    @classmethod
    def from_params(cls, params):
        return from_params_by_keywords(cls, params)

    @classmethod
    def example(cls, theory, workdir=None):
        return cls(thermalization=2)

    def supports(self, theory):
        from qlat.theories.base import SiteLocalAction

        return isinstance(theory, SiteLocalAction)

    def init_state(self, theory, *, chains, seed, start="hot"):
        require(self.supports(theory), "theory", "mine needs a real scalar field", getattr(theory, "name", theory))
        return make_initial_state(theory, chains=chains, seed=seed, start=start, step_size=self.width)

    def run(self, theory, n, *, state, progress=False):
        require(self.supports(theory), "theory", "mine needs a real scalar field", getattr(theory, "name", theory))

        def step(fields, generator, width):
            import torch

            proposal = fields + width * torch.randn(fields.shape, dtype=fields.dtype, generator=generator)
            delta = theory.action(proposal) - theory.action(fields)
            accept = torch.rand(fields.shape[0], dtype=fields.dtype, generator=generator) < torch.exp(-delta)
            fields = torch.where(accept.reshape(-1, *[1] * (fields.dim() - 1)), proposal, fields)
            accepted = accept.numpy().astype(np.float64)
            return fields, accepted, np.full(fields.shape[0], np.nan), float(accepted.mean())

        return run_chain(step, theory, n, state, thermalization=self.thermalization, every=self.every,
                         target_acceptance=None, accepted_dtype=np.float64, progress=progress, desc=self.name)
'''

# --- "Add an observable": define(name, unit, description) and a realization per target type ------------------
OBSERVABLE = '''
r"""⟨φ²⟩ = (1/V) Σ_x ⟨φ_x²⟩ of a real scalar field."""

from qlat.core.observable_registry import define
from qlat.theories.phi4 import Phi4Theory
from qlat_recipe_toy.my_theory import MyTheory

PHI2 = define("phi2", unit="lattice", description="⟨φ²⟩ = (1/V) Σ_x ⟨φ_x²⟩ of a real scalar field.")


def phi2(fields):
    return (fields * fields).reshape(fields.shape[0], -1).mean(1)


PHI2.register(MyTheory, lambda theory: phi2)
PHI2.register(Phi4Theory, lambda theory: phi2)
'''

# --- "Add a backend": name, label, description, supports, observables, estimate, example, @BACKENDS.register ---
BACKEND = '''
r"""Exact ⟨M⟩/V and ⟨φ²⟩ of my-theory: S = φᵀAφ with A_k = 1 − 2κ Σ_μ cos k_μ, so ⟨φ²⟩ = (1/V) Σ_k 1/(2A_k)."""

import itertools
import math

from qlat.core.errors import require
from qlat.core.estimate import Estimate
from qlat.core.observable_registry import OBSERVABLES
from qlat.core.registry import BACKENDS
from qlat_recipe_toy import my_observables  # noqa: F401  (defines phi2)
from qlat_recipe_toy.my_theory import MyTheory


def phi2_exact(theory):
    shape = theory.lattice.shape
    total = 0.0
    for n in itertools.product(*(range(L) for L in shape)):
        a_k = 1.0 - 2.0 * theory.kappa * sum(math.cos(2 * math.pi * n_mu / L) for n_mu, L in zip(n, shape))
        total += 1.0 / (2.0 * a_k)
    return total / math.prod(shape)


@BACKENDS.register("my-exact")
class MyExact:
    name = "my-exact"
    label = "exact"
    description = "my-theory: exact Gaussian values from the Fourier modes"

    def supports(self, target):
        return isinstance(target, MyTheory)

    def observables(self, target):
        return ["magnetization", "phi2"]

    def estimate(self, target, observables, **options):
        require(not options, "options", "my-exact takes no options", sorted(options))
        require(self.supports(target), "target", "must be a my-theory", type(target).__name__)
        values = {"magnetization": 0.0, "phi2": phi2_exact(target)}
        out = {}
        for name in observables:
            require(name in values, "observables", f"my-exact has {', '.join(values)}", name)
            out[name] = Estimate(values[name], 0.0, name=name, unit=OBSERVABLES.get(name).unit_on(target),
                                 backend=self.label, provenance={"theory": target.params()})
        return out

    def example(self, workdir=None):
        return MyTheory.example(), {}
'''

ENTRY_POINTS = f"""\
[qlat.theories]
my-theory = {PACKAGE}.my_theory

[qlat.samplers]
mine = {PACKAGE}.my_sampler

[qlat.backends]
my-exact = {PACKAGE}.my_backend
"""


def _forget_metadata() -> None:
    """A new process reads the entry points afresh; the registries cache them per process."""
    importlib.invalidate_caches()
    for registry in (THEORIES, SAMPLERS, BACKENDS):
        registry._declared = None


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The plug-in package written as the recipes say, importable (on sys.path) but not yet installed;
    ``project.install()`` does what ``pip install -e .`` does for the registries: a dist-info with
    ``entry_points.txt``."""
    site = tmp_path / "site"
    package = site / PACKAGE
    package.mkdir(parents=True)
    for name, text in {"__init__": "", "my_theory": THEORY, "my_sampler": SAMPLER, "my_observables": OBSERVABLE,
                       "my_backend": BACKEND}.items():
        (package / f"{name}.py").write_text(textwrap.dedent(text).lstrip())
    monkeypatch.syspath_prepend(str(site))

    class Project:
        path = site

        @staticmethod
        def install() -> None:
            info = site / f"{PACKAGE}-0.1.dist-info"
            info.mkdir()
            (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: 0.1\n")
            (info / "entry_points.txt").write_text(ENTRY_POINTS)
            _forget_metadata()

    _forget_metadata()
    yield Project
    for registry, name in ((THEORIES, "my-theory"), (SAMPLERS, "mine"), (BACKENDS, "my-exact")):
        registry.unregister(name)
    theory_module = sys.modules.get(f"{PACKAGE}.my_theory")
    if theory_module is not None:
        from qlat.core.observable_catalogue import MAGNETIZATION
        from qlat.theories.phi4 import Phi4Theory

        MAGNETIZATION.unregister(theory_module.MyTheory)
        if "phi2" in OBSERVABLES:
            OBSERVABLES.get("phi2").unregister(Phi4Theory)
    OBSERVABLES._by_name.pop("phi2", None)  # a run-time definition is removed with its package
    for module in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[module]
    monkeypatch.undo()
    _forget_metadata()


@pytest.fixture
def installed(project):
    project.install()
    return project


def test_without_the_reinstall_the_registries_do_not_see_the_plugins(project):
    """The module and the decorator are not enough: entry points come from installed metadata."""
    for registry, name in ((THEORIES, "my-theory"), (SAMPLERS, "mine"), (BACKENDS, "my-exact")):
        assert name not in registry.names()
        with pytest.raises(ParameterError) as info:
            registry.get(name)
        assert "pip install -e ." in info.value.hint and registry.group in info.value.hint
    project.install()
    assert "my-theory" in THEORIES.names() and "mine" in SAMPLERS.names() and "my-exact" in BACKENDS.names()
    assert f"{PACKAGE}.my_theory" not in sys.modules, "names() lists a plug-in without importing it"
    assert THEORIES.get("my-theory").name == "my-theory"


def test_theory_recipe_passes_the_conformance_suite(installed):
    from tests.architecture import test_conformance as suite

    suite.test_theory_declares_its_interface("my-theory")
    suite.test_theory_params_round_trip_through_json("my-theory")
    suite.test_theory_batch_axis_determinism_and_log_prob("my-theory")
    suite.test_theory_force_is_the_gradient_of_the_action("my-theory")


def test_sampler_recipe_passes_the_conformance_suite(installed, tmp_path):
    from tests.architecture import test_conformance as suite

    suite.test_sampler_params_round_trip("mine", tmp_path)
    suite.test_chain_is_deterministic_and_resumable_bit_for_bit("mine", tmp_path)
    suite.test_sampler_refuses_what_it_cannot_sample("mine", tmp_path)
    sampler = SAMPLERS.get("mine")()
    u1 = THEORIES.get("u1").example()
    assert not sampler.supports(u1)
    with pytest.raises(ParameterError, match="theory"):
        sampler.init_state(u1, chains=1, seed=0)


def test_backend_recipe_passes_the_conformance_suite(installed, tmp_path):
    from qlat.core.backend import get_backend
    from tests.architecture import test_conformance as suite

    suite.test_backend_declares_itself("my-exact")
    backend = get_backend("my-exact")
    target, options = backend.example(tmp_path)
    names = backend.observables(target)
    results = {"my-exact": (backend, target, options, names, backend.estimate(target, names, **options))}
    suite.test_backend_results_are_keyed_estimates_with_units("my-exact", results)
    suite.test_backend_is_deterministic_under_its_seed("my-exact", results)
    suite.test_backend_refuses_an_unknown_observable("my-exact", results)


def _z(estimate, exact):
    return (estimate.value - exact) / estimate.error


@pytest.mark.parametrize("sampler", ["hmc", "mine"])
def test_plugins_work_together_through_qlat_sample_and_qlat_estimate(installed, sampler):
    """qlat.sample of the plug-in theory (with a built-in and the plug-in sampler) reproduces the plug-in
    backend's exact ⟨φ²⟩ via qlat.estimate; the same run is many σ away from the value at another κ."""
    import qlat

    theory = THEORIES.get("my-theory").example()
    exact = qlat.estimate(theory, ["phi2", "magnetization"], backend="my-exact")
    assert exact["phi2"].exact and exact["phi2"].unit == "lattice"
    options = {"chains": 16, "every": 4, "thermalization": 20} if sampler == "mine" else {"chains": 8}
    ensemble = qlat.sample(theory, sampler, n=300, seed=7, **options)
    est = ensemble.estimate(["phi2", "magnetization"])
    assert abs(_z(est["phi2"], exact["phi2"].value)) < 4, (est["phi2"], exact["phi2"])
    assert abs(_z(est["magnetization"], 0.0)) < 4, est["magnetization"]
    wrong = qlat.estimate(type(theory).from_params({**theory.params(), "kappa": 0.2}), "phi2", backend="my-exact")
    assert abs(_z(est["phi2"], wrong["phi2"].value)) > 5, "the test must be able to tell κ = 0.1 from 0.2"
    assert est["phi2"].error < 0.2 * abs(wrong["phi2"].value - exact["phi2"].value)


def test_the_command_line_offers_the_plugins(installed, tmp_path, capsys):
    from qlat.cli.main import main

    with pytest.raises(SystemExit) as done:
        main(["sample", "my-theory", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "--kappa" in text and "mine" in text and "hmc" in text
    out = tmp_path / "run"
    argv = ["sample", "my-theory", "--kappa", "0.1", "--L", "4", "--n", "20", "--chains", "2", "--seed", "3",
            "--sampler", "mine", "--width", "0.4", "--thermalize", "5", "--out", str(out)]
    assert main(argv) == 0
    assert "magnetization" in capsys.readouterr().out
    assert main(["measure", str(out / "ensemble.h5"), "--obs", "magnetization", "phi2"]) == 0
    assert "phi2" in capsys.readouterr().out
    # a flag of the plug-in theory given to another theory: one line, with the hint
    assert main(["sample", "phi4", "--m2", "1", "--lam", "0", "--kappa", "0.1", "--n", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--kappa: does not apply" in err and "hint: leave --kappa out" in err


def test_observable_recipe_on_a_builtin_theory(installed):
    """A new observable defined in a plug-in module is offered on a built-in theory once the module is
    imported (observables have no entry points); before that, the unknown name says how to define one."""
    import qlat.core.observable_catalogue  # noqa: F401  (the built-in definitions)
    import qlat.theories.observables  # noqa: F401
    from qlat.core.lattice import Lattice
    from qlat.theories.phi4 import Phi4Theory

    with pytest.raises(ParameterError) as info:
        OBSERVABLES.get("phi2")
    assert "define(" in info.value.hint
    importlib.import_module(f"{PACKAGE}.my_observables")
    import qlat

    theory = Phi4Theory(Lattice((4, 4)), m2=0.5, lam=0.0)
    assert OBSERVABLES.get("phi2").supports(theory) and OBSERVABLES.get("phi2").unit_on(theory) == "lattice"
    ensemble = qlat.sample(theory, "mine", n=300, chains=16, seed=5, every=4, thermalization=20, width=0.15)
    est = ensemble.estimate(["phi2"])
    # free field in the phi4 normalization: ⟨φ²⟩ = (1/V) Σ_k 1/(2(2d + m² − 2 Σ_μ cos k_μ))
    import itertools
    import math

    exact = sum(1.0 / (2.0 * (4.5 - 2 * math.cos(math.pi * a / 2) - 2 * math.cos(math.pi * b / 2)))
                for a, b in itertools.product(range(4), repeat=2)) / 16
    assert abs(_z(est["phi2"], exact)) < 4, (est["phi2"], exact)
    assert abs(_z(est["phi2"], 1.5 * exact)) > 5, "a 50 % wrong value must fail"
