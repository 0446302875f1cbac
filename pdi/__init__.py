"""PDI Catalog: command line and settings."""
