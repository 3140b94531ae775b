"""Classroom tooling for the notebooks: the student edition and the navigation.

Two commands, each a module with ``main(argv)`` and ``add_parser(subparsers)``:

- :mod:`poolscope.authoring.student` writes the student edition (solutions and hidden
  tests removed, nbgrader metadata gone, still runs top to bottom);
- :mod:`poolscope.authoring.nav` rewrites the navigation cells, ``Index.ipynb`` and the
  README's contents table from the notebooks' titles.

They rely on the conventions in ``notebooks/AUTHORING.md``.
"""

from __future__ import annotations
