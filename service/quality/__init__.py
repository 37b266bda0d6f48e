"""How good the lists are: evaluation, the latest evaluation, its report, tuning, profiles."""
