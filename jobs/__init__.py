"""Background jobs run by RQ workers. Jobs import portal; portal never imports jobs."""
