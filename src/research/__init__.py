"""Research helpers for analysts in Jupyter: challengers, comparisons and extra charts.

Pure functions over a run's frames and artifacts; every ``plot_*`` takes ``ax=None`` (or
``axes=None``) and returns the Axes. The notebooks call these in cells gated on their
``research`` parameter, which the monthly run sets to False (docs/notebooks.md).
"""
