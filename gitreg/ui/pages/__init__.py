"""The pages: registry values in, escaped HTML out.

Nothing here reads git or knows HTTP; :mod:`gitreg.ui.app` fetches the data
and passes a :class:`Forms` only when the server was started with
``--allow-writes``, so a read-only server renders no forms at all.
"""

from gitreg.ui.pages.artifact import artifact_page, artifact_text
from gitreg.ui.pages.common import Forms, error_page
from gitreg.ui.pages.compare import compare_many_page, compare_page
from gitreg.ui.pages.model import TIMELINE_EVENTS, model_page, sort_versions, version_sorts
from gitreg.ui.pages.models import SORTS as MODEL_SORTS
from gitreg.ui.pages.models import models_page
from gitreg.ui.pages.runs import runs_page
from gitreg.ui.pages.version import version_page

__all__ = [
    "MODEL_SORTS",
    "TIMELINE_EVENTS",
    "Forms",
    "artifact_page",
    "artifact_text",
    "compare_many_page",
    "compare_page",
    "error_page",
    "model_page",
    "models_page",
    "runs_page",
    "sort_versions",
    "version_page",
    "version_sorts",
]
