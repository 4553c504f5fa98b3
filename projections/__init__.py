"""Read models of the record and the runners that keep them up to date."""
