"""`make bench`: the real stack on this machine, measured. See bench/README.md."""
