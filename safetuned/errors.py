"""User-facing errors: raised before heavy work starts and printed as one line by the entry points.

Each carries the exit code a single run ends with (README, "When things go wrong"): 2 for input to fix, 3 for a
job folder another live run holds, 1 for a machine problem (a checkpoint that cannot be written).
"""


class SafetunedError(Exception):
    """Base class for errors caused by the user's input (config, files, models)."""

    exit_code = 2


class ConfigError(SafetunedError):
    """A config key or value is wrong."""


class ConfigErrors(ConfigError):
    """Several config errors found in one pass: one line each, all reported at once."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        head = f"{len(self.errors)} config errors: " if len(self.errors) > 1 else ""
        super().__init__(head + "; ".join(self.errors))


class DataError(SafetunedError):
    """A data file is missing, malformed, or holds too few examples."""


class ModelError(SafetunedError):
    """A model or tokenizer cannot be found or does not fit the request."""


class StaleJobError(ConfigError):
    """A job folder holds results or a checkpoint made under another config than the one given now."""


class JobLockedError(SafetunedError):
    """Another live process is running this job (it holds the job folder's lock)."""

    exit_code = 3


class CheckpointError(SafetunedError):
    """A checkpoint cannot be written (disk full, permissions) or read."""

    exit_code = 1


def first_line(e: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message (its type's name when it has none), cut to `limit` characters:
    what a one-line error quotes of a library's own error."""
    text = (str(e).strip().splitlines() or [type(e).__name__])[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."
