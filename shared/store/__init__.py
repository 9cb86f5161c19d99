"""DynamoDB adapters. The only place that knows item layouts and catches botocore's ClientError.

Single table, keyed by tenant (``PK = TENANT#<id>``), so tenant isolation holds by construction.
"""
