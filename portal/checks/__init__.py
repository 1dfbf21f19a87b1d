"""Upload checkers (SPEC U1–U3): streaming, table-driven, no Flask."""
