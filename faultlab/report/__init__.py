"""Report writers: what a run leaves behind for a person to open (the HTML timeline, the text timeline).

Public names are re-exported here once; the modules below hold the implementations.
"""

from faultlab.report.timeline import write_timeline, write_timeline_text

__all__ = ["write_timeline", "write_timeline_text"]
