"""bench/common.py: every benchmark's results file is written the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import common


def test_a_results_file_says_when_it_was_made_first_then_what_was_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    path = common.write_results("drain", {"runs": [{"messages": 3}], "seconds": 12})
    assert path == tmp_path / "drain.json"
    text = path.read_text()
    found = json.loads(text)
    assert list(found) == ["generated_at", "runs", "seconds"]
    assert found["runs"] == [{"messages": 3}] and found["generated_at"].endswith("+00:00")
    assert text.endswith("\n")
