"""The `khenthuong` command line."""
