"""Report writers: what a run leaves behind for a person to open (the space-time page of a trace, the HTML timeline
of a history, the text timeline).

Public names are re-exported here once; the modules below hold the implementations.
"""

from faultlab.report.spacetime import write_spacetime
from faultlab.report.timeline import write_timeline, write_timeline_text

__all__ = ["write_spacetime", "write_timeline", "write_timeline_text"]
