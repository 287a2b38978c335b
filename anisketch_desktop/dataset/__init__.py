"""Building a training set: the Moebooru client, the SQLite dataset store, XDoG pairs, approval decisions."""
