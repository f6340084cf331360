"""User-facing errors: raised before heavy work starts and printed as one line by the entry points."""


class SafetunedError(Exception):
    """Base class for errors caused by the user's input (config, files, models)."""


class ConfigError(SafetunedError):
    """A config key or value is wrong."""


class DataError(SafetunedError):
    """A data file is missing, malformed, or holds too few examples."""


class ModelError(SafetunedError):
    """A model or tokenizer cannot be found or does not fit the request."""
