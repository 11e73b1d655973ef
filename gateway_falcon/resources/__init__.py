"""HTTP resources: one small class per URL."""
