"""The ``qlat`` command line: thin; parses, calls the library, prints or saves."""
