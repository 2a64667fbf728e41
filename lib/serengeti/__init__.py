"""Hakuna Ma-data track: what differs from the shared toolbox (schema, resize flow, background
images, metric, run IDs, models, stacking, neighbour-camera features)."""
