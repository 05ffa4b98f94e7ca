from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str, env_url


def test_defaults_when_unset_or_blank() -> None:
    env = {"BLANK": "  "}
    assert env_str("MISSING", "d", environ=env) == "d"
    assert env_bool("BLANK", True, environ=env) is True
    assert env_int("MISSING", 7, environ=env) == 7
    assert env_list("MISSING", ["a"], environ=env) == ["a"]
    assert env_url("MISSING", schemes=("redis",), environ=env) is None


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("TRUE", True), ("off", False)])
def test_bool(raw: str, value: bool) -> None:
    assert env_bool("FLAG", not value, environ={"FLAG": raw}) is value


def test_bad_bool_names_the_variable() -> None:
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG", False, environ={"DEBUG": "maybe"})


def test_int_bounds() -> None:
    assert env_int("N", 1, minimum=1, maximum=50, environ={"N": "50"}) == 50
    with pytest.raises(ImproperlyConfigured, match="N must be at most 50"):
        env_int("N", 1, minimum=1, maximum=50, environ={"N": "51"})
    with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
        env_int("N", 1, environ={"N": "ten"})


def test_list_strips_items() -> None:
    assert env_list("HOSTS", [], environ={"HOSTS": " a.com, ,b.com "}) == ["a.com", "b.com"]


def test_url_scheme_is_checked() -> None:
    assert env_url("REDIS_URL", schemes=("redis",), environ={"REDIS_URL": "redis://h:1/0"})
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL must be a URL"):
        env_url("REDIS_URL", schemes=("redis",), environ={"REDIS_URL": "http://h"})
