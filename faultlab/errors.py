"""The one exception hierarchy of faultlab.

Every error a user can cause (a bad configuration, an unreadable trace or history file, an unknown protocol) is a
:class:`FaultlabError`, raised early with a message that names the thing and says how to fix it. The command line
turns these into a one-line message and an exit code of 3 or more; anything else that escapes is a bug in faultlab.
"""


class FaultlabError(Exception):
    """Root of every error faultlab raises on purpose."""


class ConfigError(FaultlabError):
    """A protocol or engine setting is missing, unknown or out of range."""


class UnknownProtocolError(FaultlabError):
    """A protocol name that no registered protocol has."""


class TraceFileError(FaultlabError):
    """A trace file that cannot be read: missing, not JSON, wrong version or wrong shape."""


class HistoryFormatError(FaultlabError):
    """A history file that cannot be parsed; the message names the file and line."""


class ReplayDivergence(FaultlabError):
    """A replay produced a different event sequence than the trace recorded.

    This is never retried: the engine or the protocol is nondeterministic, which is a bug to fix.
    """


class ChoicesExhausted(FaultlabError):
    """A replayed run asked for more choices than the trace recorded."""
