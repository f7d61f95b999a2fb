"""The safety commands, run through Typer's test runner on a fresh app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli_safety import register
from flows.safety.screening import screen

LABELLED = Path(__file__).parent / "data" / "danger_signals.jsonl"


@pytest.fixture
def app() -> typer.Typer:
    fresh = typer.Typer()
    register(fresh)
    return fresh


def run(app: typer.Typer, args: list[str], stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(app, args, input=stdin)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "args", [["--help"], ["screen", "--help"], ["directory", "--help"],
             ["directory", "list", "--help"], ["directory", "validate", "--help"]],
)  # fmt: skip
def test_every_command_has_help(app: typer.Typer, args: list[str]) -> None:
    code, output = run(app, args)
    assert code == 0 and "Usage" in output


def test_screen_over_the_labelled_set_lexicons_only(app: typer.Typer) -> None:
    lines = LABELLED.read_text(encoding="utf-8").splitlines()
    code, output = run(app, ["screen", "--no-model"], "\n".join(lines) + "\n")
    assert code == 0
    answers = [json.loads(line) for line in output.splitlines()]
    assert len(answers) == len(lines)
    for line, answer in zip(lines, answers, strict=True):
        expected = screen(json.loads(line)["text"])
        source = "lexicon" if expected.flagged else ""
        score = 1.0 if expected.flagged else 0.0
        assert answer == {
            "label": expected.label,
            "cues": list(expected.cues),
            "score": score,
            "source": source,
        }
    for line in lines:  # never echo what she wrote
        assert json.loads(line)["text"] not in output


def test_screen_with_the_model_adds_its_score_and_source(app: typer.Typer) -> None:
    stdin = (
        '{"text": "he hit me again last night", "id": 1}\n'
        '{"text": "he says if I ever leave he will take the kids and I will never see them"}\n'
        '{"text": "what time does the pharmacy open on sunday"}\n'
    )
    code, output = run(app, ["screen"], stdin)
    assert code == 0
    hit, unseen, calm = (json.loads(line) for line in output.splitlines())
    assert hit["id"] == 1 and hit["label"] == "violence" and hit["cues"]
    assert hit["source"] in ("lexicon", "both") and 0 < hit["score"] <= 1
    assert unseen["label"] == "violence" and unseen["source"] == "model" and not unseen["cues"]
    assert calm == {"label": "none", "cues": [], "score": calm["score"], "source": ""}
    assert calm["score"] < unseen["score"]


def test_screen_answers_a_bad_line_and_goes_on(app: typer.Typer) -> None:
    stdin = '{"text": "he hit me", "id": 1}\nnot json at all\n["text"]\n\n{"text": "hello"}\n'
    code, output = run(app, ["screen", "--no-model"], stdin)
    assert code == 0
    answers = [json.loads(line) for line in output.splitlines()]
    assert answers[0] == {
        "id": 1, "label": "violence", "cues": ["en:physical_violence"], "score": 1.0,
        "source": "lexicon",
    }  # fmt: skip
    assert [set(a) for a in answers[1:4]] == [{"error"}] * 3
    assert "line 2" in answers[1]["error"] and "not json" not in answers[1]["error"]
    assert answers[4] == {"label": "none", "cues": [], "score": 0.0, "source": ""}


def test_screen_explain_lists_lexicon_phrases(app: typer.Typer) -> None:
    code, output = run(app, ["screen", "--explain"], '{"text": "i want to die"}\n')
    answer = json.loads(output)
    assert code == 0 and answer["label"] == "self_harm" and answer["phrases"]


def test_screen_with_custom_and_broken_lexicons(app: typer.Typer, tmp_path: Path) -> None:
    good = "language: xx\nentries:\n  - id: danger\n    label: violence\n    phrases: [zork* me]\n"
    (tmp_path / "xx.yaml").write_text(good, encoding="utf-8")
    code, output = run(app, ["screen", "--lexicons", str(tmp_path)], '{"text": "zorked me"}\n')
    assert code == 0 and json.loads(output)["cues"] == ["xx:danger"]

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "xx.yaml").write_text(good.replace("violence", "violent"), encoding="utf-8")
    code, output = run(app, ["screen", "--lexicons", str(broken)], '{"text": "zorked me"}\n')
    assert code == 2 and "xx.yaml:4: unknown label 'violent'" in output


def test_directory_list_shows_a_table(app: typer.Typer) -> None:
    code, output = run(app, ["directory", "list"])
    assert code == 0
    assert "112" in output and "800120002" in output and "116123" in output
    assert output.index("112") < output.index("800120002")


def test_directory_list_by_kind_and_language(app: typer.Typer) -> None:
    code, output = run(app, ["directory", "list", "--kind", "trafficking", "--lang", "en"])
    assert code == 0
    assert "+48226280120" in output and "+48605687750" in output and "116123" not in output
    code, output = run(app, ["directory", "list", "--kind", "foo"])
    assert code == 2 and "unknown kind foo" in output


def test_directory_validate(app: typer.Typer, tmp_path: Path) -> None:
    code, output = run(app, ["directory", "validate"])
    assert code == 0 and output.strip().splitlines()[-1] == "ok: 8 services in 1 files"

    (tmp_path / "pl.yaml").write_text("country: PL\nservices:\n  - id: x\n", encoding="utf-8")
    code, output = run(app, ["directory", "validate", str(tmp_path)])
    assert code == 1
    assert output.splitlines()[0].startswith("pl.yaml:3: service is missing 'name'")
    assert len(output.splitlines()) == 9  # one line per missing field


def test_directory_validate_warns_about_entries_not_checked_for_too_long(app: typer.Typer) -> None:
    code, output = run(app, ["directory", "validate", "--stale-after-days", "0"])
    assert code == 0 and "warning: PL crisis_line_116123: last checked" in output
    code, output = run(app, ["directory", "validate", "--stale-after-days", "100000"])
    assert code == 0 and "warning" not in output
