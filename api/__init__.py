"""The HTTP transport: routers translate requests into service calls and results into JSON."""
