"""Recorded subclasses of a stdlib pool class, one per user class, made on first use,
and :class:`Hooks`, the functions every kind's hook module offers ``recording``.

Every pool kind (see ``_kinds.py``) is recorded the same way: the
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


class Hooks:
    """What ``recording`` needs of one kind's hook module, the same for every kind.

    ``mixin`` marks a recorded instance (``isinstance(obj, hooks.mixin)``); ``prepare``
    (optional) finishes a freshly switched instance, e.g. hands it its own ``Process``.

        >>> class Base:
        ...     def __init__(self, n): self.n = n
        >>> class Mixin: pass
        >>> hooks = Hooks(Subclasses(Base, (Mixin,), (), "poolscope._demo"), Mixin)
        >>> from poolscope._log import PoolLog
        >>> obj = Base.__new__(Base)
        >>> hooks.make_recorded(obj, PoolLog(clock=lambda: 5))
        >>> hooks.init_recorded(obj, Base.__init__, (3,), {}, "n")
        >>> isinstance(obj, Mixin), obj._poolscope.size, obj._poolscope.created
        (True, 3, (5, 5))
    """

    def __init__(self, subclasses: Subclasses, mixin: type,
                 prepare: Callable[[Any, type, Any], None] | None = None) -> None:
        self.subclasses, self.mixin, self.prepare = subclasses, mixin, prepare

    def recordable(self, base: type) -> bool:
        """False for a subclass that overrides a method poolscope reimplements."""
        return self.subclasses.recordable(base)

    def recorded_class(self, base: type) -> type:
        """The recorded subclass of ``base``, cached."""
        return self.subclasses.get(base)

    def make_recorded(self, obj: Any, plog: Any) -> None:
        """Turn a not yet initialised pool into a recorded one that logs into ``plog``:
        its ``__class__`` is switched (same layout, no slots) before ``__init__`` runs."""
        cls = self.subclasses.get(type(obj))
        obj.__class__ = cls
        obj._poolscope = plog
        if self.prepare is not None:
            self.prepare(obj, cls, plog)

    @staticmethod
    def init_recorded(obj: Any, init: Callable[..., None], args: tuple, kwargs: dict,
                      size_attr: str) -> None:
        """Run the stdlib ``__init__`` of a recorded pool, timing it; the pool's size is
        read from ``size_attr`` afterwards."""
        plog = obj._poolscope
        plog.creator = threading.current_thread().name
        t0 = plog.clock()
        init(obj, *args, **kwargs)  # a bad argument raises here, exactly as in the stdlib
        plog.size = getattr(obj, size_attr)
        plog.created = (t0, plog.clock())
