"""The common catalog record: DCAT-US 1.1 plus the PDI extension, its vocabulary and checks."""
