"""Developer tools that are not part of the runtime: the sample-data generator and the README
renderer."""
