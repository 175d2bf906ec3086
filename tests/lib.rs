//! Integration tests: the real binary, run as a user would.
