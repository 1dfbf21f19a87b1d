"""Certificates: card/module profiles, path validation per card type, CRLs, the portal's own CA."""
