"""Administrative documents (ND 30/2020 layout): templates, context, DOCX and PDF rendering.

Pure: no database. The service `khenthuong.services.documents` gathers the data, checks who
may read it, and records the SHA-256 of every generated file on the audit stream.
"""
