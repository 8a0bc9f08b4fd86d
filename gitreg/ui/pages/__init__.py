"""The pages: registry values in, escaped HTML out.

Nothing here reads git or knows HTTP; :mod:`gitreg.ui.app` fetches the data
and passes a :class:`Forms` only when the server was started with
``--allow-writes``, so a read-only server renders no forms at all.
"""

from gitreg.ui.pages.common import Forms, error_page
from gitreg.ui.pages.compare import compare_page
from gitreg.ui.pages.model import TIMELINE_EVENTS, model_page
from gitreg.ui.pages.models import models_page
from gitreg.ui.pages.runs import runs_page
from gitreg.ui.pages.version import version_page

__all__ = [
    "TIMELINE_EVENTS",
    "Forms",
    "compare_page",
    "error_page",
    "model_page",
    "models_page",
    "runs_page",
    "version_page",
]
