"""`homelab diff`: the change engine, the providers' replacement rules, the hazards and the report."""
