"""Aliases: the only name one woman ever sees of another, drawn at random and leading to no one."""

import secrets

ALIAS_NAMES = (
    "Jasmine", "Olive", "Linden", "Willow", "Iris", "Poppy", "Clover", "Laurel", "Sage", "Maple",
    "Rowan", "Hazel", "Juniper", "Aster", "Violet", "Lotus", "Myrtle", "Saffron", "Cedar", "Fern",
)  # fmt: skip


def new_alias() -> str:
    return f"{secrets.choice(ALIAS_NAMES)} {secrets.randbelow(90) + 10}"
