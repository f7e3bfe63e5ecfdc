"""The application's ports are handed over whole when it is built: none can be forgotten into a silent default."""

from __future__ import annotations

import dataclasses

import pytest

from ar.application.ports import Ports
from ar.runtime import CatchUpLater


def test_every_port_of_the_application_must_be_given() -> None:
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               for f in dataclasses.fields(Ports))
    with pytest.raises(TypeError, match="finder"):
        Ports()  # type: ignore[call-arg]


def test_a_read_model_lookup_before_the_runner_exists_fails_loudly() -> None:
    catch_up = CatchUpLater()
    with pytest.raises(RuntimeError, match="before the projection runner"):
        catch_up()
    catch_up.resolve(lambda: 7)
    assert catch_up() == 7
