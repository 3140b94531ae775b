"""What the notebooks teach with, built on the recording library and apart from it.

- ``workloads``, ``gil_workloads``, ``compare_workloads``: the tasks the notebooks run,
  timed by one calibration (``_calibrate.steps_per_second``);
- ``shared_state`` (10), ``per_thread`` (11), ``progress`` (12), ``big_inputs`` (13),
  ``beyond`` (16): the helpers of the practical pages;
- ``server``: the local HTTP server of pages 11, 16 and 17;
- ``playground`` (with ``_experiment``, ``_explain`` and ``_widget``): ``poolscope.explore()``;
- ``checks``: the exercises' checks, one module per notebook.

The library (``poolscope.record``, ``poolscope.Trace``, the renderers) never imports from
here (``tests/test_layers.py`` proves it, except for the two entry points,
``poolscope.explore()`` and ``python -m poolscope demo``, which open what lives here).

    >>> from poolscope.tutorial.workloads import sleep_task
    >>> sleep_task(0)
    0
"""
