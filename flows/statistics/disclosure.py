"""Small-cell protection: no published figure lets anyone count fewer than five people.

A count under five is shown as "<5". So that it cannot be worked out by subtracting the other
cells from the total, more cells of the same group are hidden until the hidden ones add up to at
least five; a group whose total is under five is hidden whole.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from i18n import N_

THRESHOLD = 5
SMALL = "<5"
HIDDEN = "–"  # hidden only so that a small neighbour cannot be worked out


@dataclass(frozen=True)
class Cell:
    key: str
    label: str  # a text id, or a literal label such as a week ("2026-W48")
    value: int | None  # None when not published
    shown: str

    @property
    def published(self) -> bool:
        return self.value is not None


def single(key: str, label: str, value: int) -> Cell:
    """A figure that stands alone (no group, no total)."""
    if value < THRESHOLD:
        return Cell(key, label, None, SMALL)
    return Cell(key, label, value, str(value))


def protect(
    counts: Mapping[str, int], labels: Mapping[str, str] | None = None
) -> tuple[list[Cell], Cell]:
    """The cells of one group (in the given order) and its total, safe to publish together."""
    labels = labels or {}
    total = sum(counts.values())
    hidden = {key for key, value in counts.items() if value < THRESHOLD}
    if total < THRESHOLD:
        hidden = set(counts)
    while hidden and sum(counts[k] for k in hidden) < THRESHOLD and len(hidden) < len(counts):
        # The smallest visible cell goes too; ties by key, so a repeated run hides the same one.
        smallest = min((k for k in counts if k not in hidden), key=lambda k: (counts[k], k))
        hidden.add(smallest)
    cells = []
    for key, value in counts.items():
        label = labels.get(key, key)
        if key not in hidden:
            cells.append(Cell(key, label, value, str(value)))
        else:
            cells.append(Cell(key, label, None, SMALL if value < THRESHOLD else HIDDEN))
    return cells, single("total", N_("stats.total"), total)


def share(part: Cell, whole: Cell) -> str:
    """A percentage from two published figures only, so it reveals nothing they hide."""
    if not part.published or not whole.published or not whole.value:
        return HIDDEN
    return f"{round(100 * (part.value or 0) / whole.value)}%"
