"""Every operation of the OpenAPI schema shows an example of its success body (issue 19), and
each example is one the schema allows: it validates against that operation's own response
schema, its `$ref`s resolved in the generated document, with objects closed (a field the
schema does not name is an error, so an example cannot drift from the serializer)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

SCHEMA: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = [
    (f"{method.upper()} {path}", op)
    for path, item in SCHEMA["paths"].items()
    for method, op in item.items()
]


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's dialect as JSON Schema: `nullable` becomes a null alternative, and an
    object that lists its properties allows no others."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _as_json_schema(value) for key, value in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


COMPONENTS = _as_json_schema(SCHEMA["components"])


def _successes(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {code: r for code, r in op["responses"].items() if code.startswith("2")}


def test_every_operation_has_a_success_example() -> None:
    assert len(OPERATIONS) >= 45
    for label, op in OPERATIONS:
        successes = _successes(op)
        assert successes, label
        for code, response in successes.items():
            if "content" not in response:
                assert code == "204", f"{label}: {code} has no body and no example"
                continue
            content = response["content"]["application/json"]
            assert content.get("examples"), f"{label}: no example of the {code} body"


@pytest.mark.parametrize("label,op", OPERATIONS, ids=[label for label, _ in OPERATIONS])
def test_each_success_example_fits_its_operations_schema(label: str, op: dict[str, Any]) -> None:
    for code, response in _successes(op).items():
        content = response.get("content", {}).get("application/json")
        if content is None:
            continue
        schema = {"allOf": [_as_json_schema(content["schema"])], "components": COMPONENTS}
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        for name, example in content["examples"].items():
            problems = [
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(example["value"])
            ]
            assert not problems, f"{label} {code} example {name!r}: {problems}"


def test_a_wrong_example_would_be_caught() -> None:
    """The check has teeth: a field renamed, a null where a number goes, an unknown field."""
    label, op = next((lbl, o) for lbl, o in OPERATIONS if lbl == "GET /api/v1/rooms/{token}/")
    content = op["responses"]["200"]["content"]["application/json"]
    validator = jsonschema.Draft202012Validator(
        {"allOf": [_as_json_schema(content["schema"])], "components": COMPONENTS}
    )
    good = next(iter(content["examples"].values()))["value"]
    assert validator.is_valid(good), label
    renamed = {("room_title" if k == "title" else k): v for k, v in good.items()}
    assert not validator.is_valid(renamed)
    assert not validator.is_valid({**good, "capacity": None})
    assert not validator.is_valid({**good, "secret": "x"})
