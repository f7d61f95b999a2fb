"""Helpers shared by the data files coordinators edit (help directory, danger lexicons)."""

import yaml


def yaml_problem(error: yaml.MarkedYAMLError) -> str:
    """``line: problem`` for a YAML syntax error, with where the broken construct began."""
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    text = f"{line}: not valid YAML: {error.problem}"
    if error.context_mark is not None and error.context_mark.line + 1 != line:
        text += f" ({error.context} on line {error.context_mark.line + 1})"
    return text
