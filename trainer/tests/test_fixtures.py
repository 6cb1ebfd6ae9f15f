"""JSON contract: every case of trainer/tests/fixtures/*.json replayed against a fresh real server on loopback.

Regenerate the files with `/usr/bin/python3 trainer/tests/make_fixtures.py` when the protocol changes on purpose.
"""

import glob
import json
import os

import pytest

from make_fixtures import CASES, run_case

HERE = os.path.join(os.path.dirname(__file__), "fixtures")
FILES = sorted(glob.glob(os.path.join(HERE, "*.json")))
ENDPOINT_CASES = [(os.path.basename(f)[:-5], c) for f in FILES for c in json.load(open(f, encoding="utf-8"))["cases"]]


def test_fixture_files_cover_every_endpoint():
    assert sorted(os.path.basename(f)[:-5] for f in FILES) == sorted(CASES)


@pytest.mark.parametrize("endpoint,case", ENDPOINT_CASES, ids=[f"{e}-{c['name']}" for e, c in ENDPOINT_CASES])
def test_fixture_case(start_server, endpoint, case):
    client, _ = start_server()
    resp = run_case(client, case["setup"], case["request"])
    want = case["response"]
    assert resp.status == want["status"], resp.data[:300]
    assert resp.headers.get("content-type") == want["content_type"]
    if "keys" in want:
        body = resp.json
        assert sorted(body) == want["keys"]
        if resp.status >= 400:
            err = body["error"]
            if isinstance(err, dict):  # OpenAI shape on /v1/chat/completions
                assert err["code"] == want["example"]["error"]["code"] and err["message"]
            else:
                assert err == want["example"]["error"] and body["message"]
    if "line_types" in want:
        lines = resp.lines
        assert [ln["type"] for ln in lines] == want["line_types"]
        assert {ln["type"]: sorted(ln) for ln in lines} == want["keys_by_type"]
        done = lines[-1]
        assert sorted(done["metrics"]) == sorted(want["example"][-1]["metrics"])
