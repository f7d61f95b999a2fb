"""The danger screen on the independent set: messages it was never trained, tuned or checked on.

Run: .venv/bin/python -m bench.screen_independent
Screens every message of tests/data/independent/ with the real layered screen (lexicons and the
sentence model, as the service runs it) and prints the same table as the model's README: per
language n, any-danger, violence and self-harm recall (R) and precision (P); then per category
the share flagged (recall for a danger category, false-alarm rate for a `none` one) and the share
given the right label. The lexicons alone follow, for comparison.

Nothing may be chosen on these figures (no threshold, no weight, no phrase): they are only
measured. See tests/data/independent/README.md.
"""

import os
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from flows.safety.evaluation import format_table, load_examples, report  # noqa: E402
from flows.safety.layered import DangerScreen  # noqa: E402
from flows.safety.screening import load_lexicons  # noqa: E402

INDEPENDENT_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "independent"


def main() -> None:
    examples = load_examples(INDEPENDENT_DIR)
    layers = DangerScreen()
    status = layers.load()
    if not status.loaded:
        raise SystemExit(f"the model did not load: {status.detail}")
    texts = [e.text for e in examples]
    layered = [verdict.label for verdict in layers.screen_many(texts)]
    lexicons = load_lexicons()
    alone = [lexicons.screen(text).label for text in texts]
    print(f"independent set: {len(examples)} messages; model: {status.detail}")
    print("flagged = recall for a danger category, false-alarm rate for a `none` one")
    for name, predicted in (("lexicons and model (the screen as it runs)", layered),
                            ("lexicons only", alone)):  # fmt: skip
        print(f"\n== {name}\n{format_table(report(examples, predicted))}")


if __name__ == "__main__":
    main()
