"""The eval command runs labelled examples through the real pipeline and scores them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import make_settings
from whatsapp_ai.cli import app
from whatsapp_ai.evaluation import evaluate, load_dataset, parse_model

MINI = Path(__file__).parent.parent / "fixtures" / "eval_mini.jsonl"


async def test_a_small_set_scores_every_metric(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/eval.db", tmp_path)
    report = await evaluate(MINI, settings)
    assert [o.id for o in report.outcomes] == ["fin-1", "multi-1", "adv-1", "q-1"]
    assert all(not o.problems for o in report.outcomes), [o.problems for o in report.outcomes]
    assert report.rate("end_state") == 1.0
    assert "refusal of prompt injections" in report.table()


async def test_a_wrong_label_is_reported_as_a_failure(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.jsonl"
    example = load_dataset(MINI)[0]
    example["expect"]["state"]["entries"][0]["amount"] = "51.00"
    wrong.write_text(json.dumps(example) + "\n", encoding="utf-8")
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/eval.db", tmp_path)
    report = await evaluate(wrong, settings)
    [outcome] = report.outcomes
    assert outcome.scores["end_state"] is False
    assert outcome.scores["tools"] is True
    assert "entries" in outcome.problems[0]


def test_the_command_prints_the_table_and_fails_below_the_bar(tmp_path: Path) -> None:
    out = tmp_path / "outcomes.json"
    result = CliRunner().invoke(
        app, ["eval", str(MINI), "--json", str(out), "--min-end-state", "0.9"]
    )
    assert result.exit_code == 0, result.output
    assert "end_state" in result.output
    assert len(json.loads(out.read_text())) == 4
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    refused = CliRunner().invoke(app, ["eval", str(bad)])
    assert refused.exit_code != 0


def test_model_names_become_provider_specs() -> None:
    assert parse_model("offline", {}) == []
    [spec] = parse_model("groq:llama-3.1-8b-instant", {"GROQ_API_KEY": "gsk_x"})
    assert (spec.provider, spec.model) == ("groq", "llama-3.1-8b-instant")
    [local] = parse_model("openai_compatible:llama3.1@http://127.0.0.1:11434/v1", {})
    assert local.base_url == "http://127.0.0.1:11434/v1"


# A whole labelled set through the real pipeline: minutes, not the per-test default.
@pytest.mark.timeout(900)
async def test_the_offline_assistant_passes_the_shipped_set(tmp_path: Path) -> None:
    """The bar of the labelled set in evals/: at least 90% end-state correctness offline."""
    dataset = Path(__file__).parent.parent.parent / "evals" / "assistant.jsonl"
    examples = load_dataset(dataset)
    assert len(examples) >= 200
    assert {e["lang"] for e in examples} == {"pt", "en"}
    assert {"multi", "adversarial"} <= {e["category"] for e in examples}
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/eval.db", tmp_path)
    report = await evaluate(dataset, settings)
    failed = [f"{o.id}: {o.problems}" for o in report.outcomes if not o.scores["end_state"]]
    assert report.rate("end_state") >= 0.90, "\n".join(failed)
    assert report.rate("end_state", "adversarial") >= 0.90, "\n".join(failed)
