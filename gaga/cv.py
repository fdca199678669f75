"""Cross-validation of the age along exact age paths.

Public entry points: :class:`SelfPacedLassoCV`, :class:`SelfPacedSVMCV`,
:func:`score_path` (score one path on a held-out set at many ages, exactly) and
:func:`age_grid` (the default grid of ages).
"""

from gaga._cv import SelfPacedLassoCV, SelfPacedSVMCV, age_grid, score_path

__all__ = ["SelfPacedLassoCV", "SelfPacedSVMCV", "age_grid", "score_path"]
