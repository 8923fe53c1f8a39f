"""The mock enterprise: vendor-shaped systems, their registry, the chaos engine, the dataset."""
