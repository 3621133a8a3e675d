"""IBM Quantum accounts through the runtime's own mechanisms; qlat never stores, prints or logs a token.

Where the credentials come from is decided by ``qiskit_ibm_runtime`` itself
(``AccountManager.get``, the same lookup ``QiskitRuntimeService()`` does):

1. a saved account named ``name`` (``QiskitRuntimeService.save_account(..., name=...)``);
2. the environment: ``QISKIT_IBM_TOKEN`` (API key), ``QISKIT_IBM_INSTANCE`` (the instance CRN or
   name), optional ``QISKIT_IBM_CHANNEL`` / ``QISKIT_IBM_URL``;
3. the default saved account in ``~/.qiskit/qiskit-ibm.json``.

Channels are ``ibm_quantum_platform`` (the default) and ``ibm_cloud``; the old ``ibm_quantum``
channel is retired.  qlat passes no token to the runtime: it only names the channel, the
instance and the saved account, so the token never travels through qlat's own objects.

:func:`find_account` checks *without any network access* that an account can be found and says
in one line what to set otherwise.  :func:`connect` builds the ``QiskitRuntimeService`` (which
contacts the server in its constructor) in a worker thread and gives up after a bounded
``timeout``; every error it raises is one line, redacted with :func:`redact`, and not chained to
the runtime's exception (whose message or locals could carry the token).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qlat.core.errors import ParameterError, QlatError

TOKEN_ENV = "QISKIT_IBM_TOKEN"
INSTANCE_ENV = "QISKIT_IBM_INSTANCE"
CHANNEL_ENV = "QISKIT_IBM_CHANNEL"
#: The runtime's channels (``ibm_quantum`` is retired).
CHANNELS: tuple[str, ...] = ("ibm_quantum_platform", "ibm_cloud")
#: Seconds :func:`connect` waits for the service before it gives up.
DEFAULT_TIMEOUT_S = 6.0

_WHAT_TO_SET = (f"set {TOKEN_ENV} (your IBM Quantum API key) and {INSTANCE_ENV} (the instance CRN), or save "
                "an account once with QiskitRuntimeService.save_account(channel='ibm_quantum_platform', "
                "token=..., instance=...)")
_REDACTED = "<redacted>"
_MIN_SECRET_LEN = 6


class CredentialsError(QlatError):
    """No usable IBM Quantum account, or the service could not be reached (one line, no token)."""


def _saved_token(channel: str | None, name: str | None) -> str | None:
    try:
        from qiskit_ibm_runtime.accounts import AccountManager

        account = AccountManager.get(name=name, channel=channel)  # type: ignore[arg-type]
    except Exception:
        return None
    return getattr(account, "token", None)


def secrets(*, channel: str | None = None, name: str | None = None) -> list[str]:
    """The credential strings qlat must never write: the environment's token and a saved account's."""
    found = []
    env = os.environ.get(TOKEN_ENV)
    if env and len(env) >= _MIN_SECRET_LEN:
        found.append(env)
    saved = _saved_token(channel, name)
    if saved and len(saved) >= _MIN_SECRET_LEN and saved not in found:
        found.append(saved)
    return found


def redact(text: str, *, extra: list[str] | None = None) -> str:
    """``text`` with every known credential (and ``extra``) replaced by ``<redacted>``."""
    out = str(text)
    env = os.environ.get(TOKEN_ENV)
    candidates = ([env] if env else []) + list(extra or [])
    for secret in candidates:
        if secret and len(secret) >= _MIN_SECRET_LEN:
            out = out.replace(secret, _REDACTED)
    return out


def assert_no_secret(text: str) -> None:
    """Raise :class:`QlatError` if ``text`` contains the environment's IBM token (before writing it)."""
    env = os.environ.get(TOKEN_ENV)
    if env and len(env) >= _MIN_SECRET_LEN and env in str(text):
        raise QlatError(f"refusing to write data that contains the value of {TOKEN_ENV}")


@dataclass(frozen=True)
class AccountInfo:
    """Where the account comes from; deliberately without the token.

    channel: ``ibm_quantum_platform`` or ``ibm_cloud``; instance: CRN / name or None (the runtime
    then picks one); source: ``"environment"``, ``"saved:<name>"`` or ``"saved (default)"``;
    name: the saved account name passed on to the runtime (None for the environment).
    """

    channel: str
    instance: str | None
    source: str
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "instance": self.instance, "source": self.source, "name": self.name}


def check_channel(channel: str | None) -> str | None:
    if channel is None:
        return None
    if channel == "ibm_quantum":
        raise ParameterError("channel", "the 'ibm_quantum' channel is retired", channel,
                             hint="use 'ibm_quantum_platform'")
    if channel not in CHANNELS:
        raise ParameterError("channel", f"must be one of {', '.join(CHANNELS)}", channel)
    return channel


def find_account(*, channel: str | None = None, instance: str | None = None, name: str | None = None) -> AccountInfo:
    """The account the runtime would use, found without network access.

    Raises :class:`CredentialsError` (one line, saying what to set) when there is none.
    """
    check_channel(channel)
    try:
        from qiskit_ibm_runtime.accounts import AccountManager
    except Exception as exc:  # pragma: no cover - the runtime is a dependency
        raise CredentialsError(f"qiskit-ibm-runtime is not importable ({type(exc).__name__})") from None
    env_token = os.environ.get(TOKEN_ENV, "").strip()
    env_channel = os.environ.get(CHANNEL_ENV) or None
    if env_channel is not None and env_channel not in CHANNELS:
        raise CredentialsError(f"{CHANNEL_ENV}={env_channel!r} is not a channel; use one of {', '.join(CHANNELS)}")
    if name is None and env_token:
        return AccountInfo(channel=channel or env_channel or CHANNELS[0],
                           instance=instance or os.environ.get(INSTANCE_ENV) or None, source="environment")
    try:
        account = AccountManager.get(name=name, channel=channel)  # type: ignore[arg-type]
    except Exception:
        where = f"saved account {name!r} not found; " if name else "no IBM Quantum account found; "
        raise CredentialsError(where + _WHAT_TO_SET) from None
    if not getattr(account, "token", None):
        raise CredentialsError("the IBM Quantum account has no API key; " + _WHAT_TO_SET)
    found_channel = getattr(account, "channel", None) or channel or CHANNELS[0]
    if found_channel not in CHANNELS:
        raise CredentialsError(f"the saved account uses channel {found_channel!r}, which is retired; save it again "
                               "with channel='ibm_quantum_platform'")
    return AccountInfo(channel=found_channel, instance=instance or getattr(account, "instance", None),
                       source=f"saved:{name}" if name else "saved (default)", name=name)


def connect(
    *,
    channel: str | None = None,
    instance: str | None = None,
    name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    factory: Callable[..., Any] | None = None,
) -> Any:
    """A ``QiskitRuntimeService`` for the account of :func:`find_account`, within ``timeout`` seconds.

    ``factory`` replaces ``QiskitRuntimeService`` (tests pass a stand-in: a real service contacts
    the server in its constructor).  Raises :class:`CredentialsError` — one line, token redacted —
    when no account is found, the service rejects it, or it does not answer in time.
    """
    if not (isinstance(timeout, (int, float)) and 0 < timeout <= 600):
        raise ParameterError("timeout", "must be a number of seconds in (0, 600]", timeout)
    account = find_account(channel=channel, instance=instance, name=name)
    if factory is None:
        from qiskit_ibm_runtime import QiskitRuntimeService

        factory = QiskitRuntimeService
    kwargs: dict[str, Any] = {"channel": account.channel}
    if account.name is not None:
        kwargs = {"name": account.name}
    if account.instance:
        kwargs["instance"] = account.instance
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["service"] = factory(**kwargs)
        except BaseException as exc:  # reported below, redacted
            outcome["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"

    hidden = secrets(channel=account.channel, name=account.name)
    worker = threading.Thread(target=work, name="qlat-ibm-connect", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise CredentialsError(
            f"IBM Quantum did not answer within {timeout:g} s (no network, or the service is down); "
            "check the connection, or use --backend fake:<device> to run locally")
    if "error" in outcome:
        message = redact(outcome["error"], extra=hidden)
        raise CredentialsError(f"cannot connect to IBM Quantum ({account.source} account, channel "
                               f"{account.channel}): {message[:300]}; " + _WHAT_TO_SET)
    return outcome["service"]


def call_with_timeout(fn: Callable[[], Any], *, timeout: float = DEFAULT_TIMEOUT_S, what: str = "IBM Quantum") -> Any:
    """``fn()`` in a worker thread; :class:`CredentialsError` (one line, redacted) after ``timeout`` s or on error."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # reported below, redacted
            outcome["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"

    worker = threading.Thread(target=work, name="qlat-ibm-call", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise CredentialsError(f"{what} did not answer within {timeout:g} s (no network, or the service is down)")
    if "error" in outcome:
        raise CredentialsError(f"{what} failed: {redact(outcome['error'], extra=secrets())[:300]}")
    return outcome["value"]
