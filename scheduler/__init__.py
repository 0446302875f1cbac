"""Scheduling and running harvests: which sources to harvest (from the seed) and the harvest run
that drives gather → map → classify → store → index for each of them."""
