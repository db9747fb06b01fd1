"""The contract: the OpenAPI document, generated from the app, and its routes."""
