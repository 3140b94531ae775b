"""The package version, in a module of its own so that any layer may read it
(the Chrome export names its generator) without importing the package root.

    >>> __version__.count(".")
    2
"""

__version__ = "0.1.0"
