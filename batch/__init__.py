"""The Spark batch job over a folder of labelled photos, and the map of where they were taken."""
