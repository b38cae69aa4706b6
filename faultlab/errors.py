"""The one exception hierarchy of faultlab.

Every error a user can cause (a bad configuration, an unreadable trace or history file, an unknown protocol) is a
:class:`FaultlabError`, raised early with a message that names the thing and says how to fix it. The command line
turns these into a one-line message and an exit code: 4 for :class:`Nondeterminism` (a run that did not repeat), 3
for every other one. Anything else that escapes a command is a bug in faultlab, never a verdict: the command line
reports it as an internal error (exit 5).
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


class Nondeterminism(FaultlabError):
    """The same choices did not give the same run: the engine or the protocol is nondeterministic, a bug to fix.

    Never retried. Raised when Hypothesis re-runs a test case and it behaves differently (``Flaky``), and, as
    :class:`ReplayDivergence`, when a replay departs from its trace.
    """


class ReplayDivergence(Nondeterminism):
    """A replay produced a different event sequence than the trace recorded."""


class ChoicesExhausted(ReplayDivergence):
    """A replayed run asked for more choices than the trace recorded."""
