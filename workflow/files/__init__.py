"""Reading and storing files: enterprise imports, event CSVs, the document store, key files, cell text."""
