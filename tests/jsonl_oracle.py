"""Checks for `--format jsonl` output: the schema, and each value against what `run` printed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache

import orjson
from jsonschema import Draft202012Validator

from tests.conftest import ROOT

SUPPRESSED = "[output suppressed]"


@cache
def validator() -> Draft202012Validator:
    schema = json.loads((ROOT / "docs" / "jsonl-schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def objects(output: bytes) -> list[dict]:
    """Every line of jsonl output, parsed and validated against docs/jsonl-schema.json."""
    assert output == b"" or output.endswith(b"\n"), "jsonl output ends with a line feed"
    items = [orjson.loads(line) for line in output.split(b"\n")[:-1]]
    check = validator()
    for item in items:
        errors = sorted(check.iter_errors(item), key=str)
        assert not errors, f"{item.get('file')}:{item.get('line')}: {errors[0].message}"
    return items


def leaves(tree: object, key: str | None = None) -> Iterator[tuple[str, str]]:
    """(key, value text) of every value in a kv object, in order; array items one by one."""
    if isinstance(tree, dict):
        for inner, value in tree.items():
            yield from leaves(value, inner)
    elif isinstance(tree, list):
        for value in tree:
            yield from leaves(value, key)
    else:
        assert key is not None and isinstance(tree, str)
        yield key, tree


def _printed(key: str, value: str) -> re.Pattern[str]:
    """The pair as `run` prints it: C or PSDK separator, the value quoted (' or ") or bare, to the line end."""
    name = re.escape(f"'{key}'")
    if value == SUPPRESSED:
        return re.compile(name + r"[ \t]+\[output suppressed\][ \t]*\r*$", re.MULTILINE)
    text = re.escape(value)
    sep = r"(?:[ \t]+\[[A-Za-z][A-Za-z0-9_]*\][ \t]*=[ \t]*|[ \t]+)"
    return re.compile(f"{name}{sep}(?:'{text}'|\"{text}\"|{text})[ \\t]*\\r*$", re.MULTILINE)


def check_values(items: list[dict], printed: bytes) -> int:
    """Each value of each message is printed with its key in `printed` (run's output), after the
    message's header; return how many values were checked."""
    text = printed.decode("utf-8", "backslashreplace")
    cursor, checked = 0, 0
    for item in items:
        if "header" not in item:
            continue
        if item["header"]:
            found = text.find(item["header"][-1], cursor)
            assert found >= 0, f"line {item['line']}: header not in run's output"
            cursor = found
        for key, value in leaves(item["kv"]):
            assert _printed(key, value).search(text, cursor), f"line {item['line']}: {key!r} is not {value!r} in run's output"
            checked += 1
    return checked
