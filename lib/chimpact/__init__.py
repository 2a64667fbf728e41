"""Deep Chimpact track: what differs from the shared toolbox (schema, windows, records, models)."""
