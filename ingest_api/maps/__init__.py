"""The live map: its page, its points and searches, and the vendored map scripts."""
