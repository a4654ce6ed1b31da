"""The outside world behind ports: DynamoDB, S3, SES, Step Functions, the registers, the card producer."""
