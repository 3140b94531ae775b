"""What the matplotlib timeline looks like: colours, bar styles, mark names, label limits.

Plain data (no numpy, no matplotlib), so anything may import it cheaply; the numbers
(``_geometry``), the drawing (``mpl``, ``_decorate``) and the legend all read it here.

    >>> OUTCOME_COLOURS["failed"] == VERMILLION, VERMILLION in CALL_COLOURS
    (True, False)
    >>> STYLE_OF["killed"], sorted(STYLE_KW) == sorted(STYLES + ("blocked", "callback"))
    ('killed', True)
"""

from __future__ import annotations

from .._model import ABANDONED, FAILED, FINISHED, KILLED, RUNNING

# Okabe-Ito, colour-blind safe. Calls cycle through six of them; vermillion is kept
# for failures and black for callbacks, so neither is ever a call's colour.
BLUE, ORANGE, GREEN, PURPLE, SKY, YELLOW = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442")
VERMILLION, BLACK, GREY, LIGHT = "#D55E00", "#000000", "#999999", "#CCCCCC"
WAIT_GREY = "#BBBBBB"  # queue waits, and their legend line
MARK_GREY = "#555555"  # pool-event marks, their labels and the "now" line
CALL_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, SKY, YELLOW)
OUTCOME_COLOURS = {FINISHED: BLUE, FAILED: VERMILLION, ABANDONED: ORANGE, RUNNING: SKY,
                   KILLED: GREY}

# A bar's style by the task's outcome; each style is one PolyCollection.
STYLES = ("task", "failed", "abandoned", "running", "killed")
STYLE_OF = {FINISHED: "task", FAILED: "failed", ABANDONED: "abandoned", RUNNING: "running",
            KILLED: "killed"}
# Keyword arguments of the PolyCollection of each style (see mpl.TimelineView).
STYLE_KW: dict[str, dict] = {
    "task": dict(edgecolors="white", linewidths=0.5, zorder=2),
    "running": dict(edgecolors=BLACK, linewidths=0.8, linestyles=":", zorder=2),
    "abandoned": dict(edgecolors=BLACK, linewidths=1.0, linestyles="--", zorder=2),
    "failed": dict(edgecolors=VERMILLION, linewidths=1.5, hatch="xx", zorder=2.5),
    "blocked": dict(edgecolors="none", zorder=2),
    "callback": dict(edgecolors="none", zorder=2),
    "killed": dict(edgecolors=BLACK, linewidths=1.0, hatch="//", zorder=2),
}

MARK_NAMES = {"close": "close()", "terminate": "terminate()", "join": "join() returned",
              "shutdown": "shutdown()"}
MAX_LABELS = 300  # above this many bars, labels="auto" draws none (they cannot be read)
