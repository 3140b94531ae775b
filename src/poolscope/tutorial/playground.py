"""The playground: change a pool's settings, run, and watch the timeline live.

    >>> exp = Experiment(workers=4, tasks=12, duration=0.01)
    >>> explain(exp, run(exp)).split(";")[0]
    '4 workers, 12 IO tasks of 0.01 s: 3 waves'

In a notebook, ``poolscope.explore()`` shows the controls (see :func:`explore`).
The runner (:class:`Experiment`, :func:`run`) lives in ``_experiment.py`` and needs
no widgets; :func:`explain` and :func:`code` live in ``_explain.py`` (the widget uses
them too); ipywidgets is imported only when :func:`explore` builds the widget.
"""

from __future__ import annotations

from typing import Any

from .._options import shown
from ._experiment import Experiment, run
from ._explain import code, explain

__all__ = ["Experiment", "run", "explain", "code", "explore"]


def explore(experiment: Experiment | None = None, **settings: Any) -> Any:
    """The playground widget (an ``ipywidgets.VBox``): controls, Run, a live timeline.

    Settings are :class:`Experiment` fields (``explore(workers=8, method="imap")``).
    The parts are attributes: ``controls`` (field name -> widget), ``run_button``,
    ``stop_button``, ``progress``, ``status``, ``image``, ``summary``, ``last_trace``;
    ``run(wait=False)`` does what the button does (``wait=True`` returns when done).

        >>> pg = explore(workers=2, tasks=4, duration=0.01)
        >>> pg.run(wait=True), pg.progress.value
        (True, 4)
        >>> pg.close()
    """
    if experiment is not None and not isinstance(experiment, Experiment):
        raise TypeError("explore() takes an Experiment or settings such as "
                        f"explore(workers=4, tasks=12) (got {shown(experiment)})")
    if experiment is not None and settings:
        raise TypeError("pass an Experiment or settings, not both")
    fields = list(Experiment.__dataclass_fields__)
    unknown = [name for name in settings if name not in fields]
    if unknown:
        raise TypeError(f"explore() has no setting {unknown[0]!r}; the settings are "
                        f"{', '.join(fields)}")
    experiment = experiment or Experiment(**settings)
    problems = experiment.validate()
    if problems:  # a bad start, said once here (later, the controls prevent or explain)
        raise ValueError("; ".join(problems))
    from ._widget import Playground  # ipywidgets: only once the arguments are good

    return Playground(experiment)
