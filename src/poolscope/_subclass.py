"""Recorded subclasses of a stdlib pool class, one per user class, made on first use.

ThreadPool, the process Pool and ThreadPoolExecutor are recorded the same way: the
instance's class is switched to a generated subclass that puts poolscope's mixins before
the user's class in the MRO.

    >>> class Mixin: pass
    >>> class Base: pass
    >>> made = Subclasses(Base, (Mixin,), ("run",), "poolscope._demo")
    >>> cls = made.get(Base)
    >>> cls.__qualname__, cls.__mro__[1:3] == (Mixin, Base), made.get(Base) is cls
    ('RecordedBase', True, True)
    >>> made.recordable(type("Own", (Base,), {"run": lambda self: 0}))
    False
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Subclasses:
    """The recorded subclasses of ``root`` and of its subclasses, cached.

    ``reimplemented`` names the methods the mixins replace: a user's subclass that
    overrides one of them is not recordable (recording would bypass the override).
    ``extra(base)`` may add attributes to a generated class's namespace.
    """

    def __init__(self, root: type, mixins: tuple[type, ...], reimplemented: tuple[str, ...],
                 module: str, extra: Callable[[type], dict[str, Any]] | None = None) -> None:
        self.root, self.mixins, self.reimplemented = root, mixins, reimplemented
        self.module, self.extra = module, extra
        self._made: dict[type, type] = {}
        self._lock = threading.Lock()  # guards _made; taken once per pool creation

    def recordable(self, base: type) -> bool:
        """False for a subclass of ``root`` that overrides a reimplemented method."""
        for cls in base.__mro__:
            if cls is self.root:
                return True
            if any(name in vars(cls) for name in self.reimplemented):
                return False
        return False

    def get(self, base: type) -> type:
        """The recorded subclass of ``base`` (``root`` or a user's subclass of it)."""
        with self._lock:
            cls = self._made.get(base)
            if cls is None:
                namespace: dict[str, Any] = {
                    "__module__": self.module, "__qualname__": f"Recorded{base.__qualname__}",
                    "_poolscope_base": base, "__doc__": f"{base.__qualname__}, recorded."}
                if self.extra is not None:
                    namespace.update(self.extra(base))
                cls = type(f"Recorded{base.__name__}", (*self.mixins, base), namespace)
                self._made[base] = cls
            return cls
