"""faultlab: property-based verification of distributed protocols under faults."""
