"""The HTTP service, its command line, settings and storage wiring."""
