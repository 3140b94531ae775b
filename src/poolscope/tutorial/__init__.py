"""What the notebooks teach with, built on the recording library and apart from it.

- ``workloads``, ``gil_workloads``, ``compare_workloads``: the tasks the notebooks run;
- ``server``: the local HTTP server of the capstone;
- ``playground`` (with ``_experiment`` and ``_widget``): ``poolscope.explore()``;
- ``checks``: the exercises' checks, one module per notebook.

The library (``poolscope.record``, ``poolscope.Trace``, the renderers) never imports from
here; modules here use only the library's public parts.

    >>> from poolscope.tutorial.workloads import sleep_task
    >>> sleep_task(0)
    0
"""
