"""Key pairs, certificates and the keystores made from them (no Pulumi here)."""
