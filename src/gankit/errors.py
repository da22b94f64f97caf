"""User-facing errors.

Anything a user can get wrong (a flag, a file, a config value) raises ``GankitError`` with one
line that names the culprit. The CLI prints that line and exits with code 2; no traceback.
"""


class GankitError(Exception):
    """A user error: one clear line naming the flag or file. The CLI exits with code 2."""

    exit_code = 2


class DataError(GankitError):
    """Missing, corrupt or unreadable data."""


class ConfigError(GankitError):
    """An unknown or badly typed configuration key or value."""


class RunDirError(GankitError):
    """A path that is not a gankit run directory, or a damaged checkpoint."""


class TrainingDiverged(GankitError):
    """A loss became NaN or Inf."""
