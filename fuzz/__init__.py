"""Coverage-guided fuzz targets (atheris), one per parser; run with `make fuzz`."""
