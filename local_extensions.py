"""Jinja extensions of this template, loaded by cookiecutter from `_extensions` in cookiecutter.json."""

import os

from jinja2.ext import Extension


def absolute_path(path: str, start: str | None = None) -> str:
    """`path` as an absolute path: `~` expanded and a relative path joined to `start` (default: the working folder).

    An empty answer stays empty, so a hook can still tell that no path was given. The path is normalised but its
    links are not resolved: `..` means the folder above as the user's shell spelled it.
    """
    text = str(path).strip()
    if not text:
        return ""
    return os.path.abspath(os.path.join(start or os.getcwd(), os.path.expanduser(text)))


class AbsolutePathExtension(Extension):
    """Adds the `abspath` filter: `{{ cookiecutter.some_path | abspath(cookiecutter.__start_dir) }}`.

    Relative answers mean "relative to where I ran cookiecutter", but cookiecutter renders the hooks with the template
    folder as working folder and runs them inside the new project folder. So cookiecutter.json records that folder
    once, as `__start_dir = {{ '.' | abspath }}` (answers are rendered before cookiecutter changes folder), and every
    other path is made absolute against it.
    """

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["abspath"] = absolute_path
