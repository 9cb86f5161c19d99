"""Per-API-key rate limits, held in DynamoDB so they apply across every Lambda container."""
