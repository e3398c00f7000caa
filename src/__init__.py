"""cvm: customer value management for car dealers."""

import os as _os

# LightGBM's OpenMP threads spin while waiting by default; on a busy machine (pytest -n 2,
# notebooks beside each other) that made training 15x slower. Passive waiting costs nothing
# measurable when the machine is idle. Must be set before OpenMP starts (first lightgbm import).
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
