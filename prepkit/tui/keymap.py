"""Remapping keys from a config file, the way Textual apps such as posting do it.

Every binding the learner may want to move has an id (`study.again`, `app.browse`, ...). A TOML
file maps ids to keys:

    [keys]
    "study.again" = "a"
    "study.good" = "g,space"

The file is read once at start; an unknown id or a malformed file is one clear line naming the
file (and the line, where TOML says it), before any screen is drawn.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from prepkit.errors import PrepkitError

_KEY = re.compile(r"^[a-z0-9_+]+(,[a-z0-9_+]+)*$")


def load_keymap(path: Path, known: Callable[[], Iterable[str]]) -> dict[str, str]:
    """The `[keys]` table of `path` as {binding id: keys}; {} when the file does not exist.

    `known` lists the binding ids; it is called only when there is a file, since it imports
    every screen."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise PrepkitError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PrepkitError(f"{path}: {exc}") from None
    except OSError as exc:
        raise PrepkitError(f"{path}: cannot read ({exc.strerror})") from None
    return check_keymap(path, data, known())


def check_keymap(path: Path, data: Mapping[str, object], known: Iterable[str]) -> dict[str, str]:
    unexpected = sorted(set(data) - {"keys"})
    if unexpected:
        raise PrepkitError(f"{path}: unknown table or key {unexpected[0]!r} (only [keys])")
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        raise PrepkitError(f'{path}: [keys] must be a table of "binding id" = "key"')
    ids = set(known)
    keymap: dict[str, str] = {}
    for binding_id, value in keys.items():
        if binding_id not in ids:
            close = ", ".join(sorted(i for i in ids if i.split(".")[0] == binding_id.split(".")[0]))
            hint = f" (known: {close})" if close else ""
            raise PrepkitError(f"{path}: unknown binding id {binding_id!r}{hint}")
        if not isinstance(value, str) or not _KEY.match(value.replace(" ", "")):
            raise PrepkitError(
                f'{path}: {binding_id}: keys must be a string such as "a" or "ctrl+g,space"'
            )
        keymap[binding_id] = value.replace(" ", "")
    return keymap
