"""The fixtures against the JSON Schemas the TypeScript side exports to trainer/schemas/ (STYLE.md §12).

Requests the runtime sends and responses it parses must both satisfy its zod schemas.
"""

import glob
import json
import os

import jsonschema
import pytest

HERE = os.path.dirname(__file__)
SCHEMAS = os.path.join(HERE, "..", "schemas")


def _schema(name):
    path = os.path.join(SCHEMAS, f"{name}.json")
    assert os.path.isfile(path), f"missing schema {path}; the TypeScript side exports it (trainer/schemas/)"
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _cases():
    out = []
    for path in sorted(glob.glob(os.path.join(HERE, "fixtures", "*.json"))):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        out += [(doc["endpoint"], c) for c in doc["cases"]]
    return out


def _checks(endpoint, case):
    """(schema name, instance) pairs for one fixture case."""
    req, resp = case["request"], case["response"]
    ok = resp["status"] == 200
    if endpoint == "train" and ok:
        yield "train_request", req["body"]
        for line in resp["example"]:
            yield "train_line", line
    if endpoint == "put_policy" and ok and req["body"].get("algo"):
        yield "policy_config", req["body"]
    if endpoint == "render" and ok:
        yield "render_reply", resp["example"]
    if endpoint == "logprobs" and ok:
        yield "logprobs_reply", resp["example"]
    if endpoint == "info":
        yield "info", resp["example"]
    if endpoint == "get_policy" and ok:
        yield "policy_state", resp["example"]
    if endpoint == "list_policies":
        for p in resp["example"]["policies"]:
            yield "policy_state", p
    if resp["status"] >= 400 and resp.get("content_type") == "application/json":
        yield "error", resp["example"]


CHECKS = [(e, c["name"], s, inst) for e, c in _cases() for s, inst in _checks(e, c)]


def test_every_schema_is_exercised():
    assert {s for _, _, s, _ in CHECKS} >= {"train_request", "train_line", "policy_config", "info", "policy_state", "error",
                                                  "render_reply", "logprobs_reply"}


@pytest.mark.parametrize("endpoint,case,schema,instance", CHECKS, ids=[f"{e}-{c}-{s}" for e, c, s, _ in CHECKS])
def test_fixture_matches_schema(endpoint, case, schema, instance):
    jsonschema.validate(instance, _schema(schema))


def test_schema_sample_fields_are_accepted_by_the_parser():
    from trainer.data import Sample

    props = set(_schema("sample")["properties"])
    assert props <= set(Sample.__dataclass_fields__), props - set(Sample.__dataclass_fields__)
