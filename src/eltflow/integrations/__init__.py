"""Task integrations: Resource ARN → behaviour, each mapping native failures to AWS error names."""
