"""The explorers' state types: traitlets that take numpy's numbers as Python's own.

``explorer.divisor = np.float32(8)`` or ``explorer.same_qk = x > 0`` should work as a student
expects; traitlets alone refuses numpy scalars. :class:`Checked` lets an explorer's own
validator see None too. Used by :mod:`course_lib.explorer_base` and the explorers.
"""

import numbers

import numpy as np
import traitlets

__all__ = ["Checked", "Flag", "Number", "Whole"]


class Number(traitlets.Float):
    """A float traitlet that also takes numpy floats and integers (not booleans)."""

    def validate(self, obj, value):
        """Return ``value`` as a float when it is a real number."""
        if isinstance(value, bool):
            self.error(obj, value)
        if isinstance(value, numbers.Real):
            value = float(value)
        return super().validate(obj, value)


class Whole(traitlets.Int):
    """An int traitlet that also takes numpy integers (not booleans or floats)."""

    def validate(self, obj, value):
        """Return ``value`` as an int when it is a whole number."""
        if isinstance(value, bool):
            self.error(obj, value)
        if isinstance(value, numbers.Integral):
            value = int(value)
        return super().validate(obj, value)


class Flag(traitlets.Bool):
    """A bool traitlet that also takes numpy booleans (``explorer.same_qk = x > 0``)."""

    def validate(self, obj, value):
        """Return ``value`` as a bool when it is a Python or numpy boolean."""
        if isinstance(value, np.bool_):
            value = bool(value)
        return super().validate(obj, value)


class Checked(traitlets.Any):
    """Any value, None included, checked by the explorer's validator (traitlets skips None)."""

    def _validate(self, obj, value):
        if value is None and not obj._cross_validation_lock:
            return self._cross_validate(obj, value)
        return super()._validate(obj, value)
