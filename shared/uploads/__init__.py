"""Uploads: presigned S3 PUTs for model artifacts and batch input files, and checks before they are used."""
