"""Where calcml keeps data a user imported: ``$CALCML_DATA`` when set, else ``$XDG_DATA_HOME/calcml``, else
``~/.local/share/calcml`` (``%LOCALAPPDATA%\\calcml`` on Windows). Nothing is ever downloaded into it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DATA_ENV = "CALCML_DATA"


def data_home() -> Path:
    """The folder where calcml keeps data a user imported (the order is in this module's docstring).

    >>> cm.data.data_home()          # with CALCML_DATA unset, on Linux  # doctest: +SKIP
    PosixPath('/home/ada/.local/share/calcml')
    """
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "calcml"
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "calcml"
