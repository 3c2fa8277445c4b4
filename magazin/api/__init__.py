"""REST API (OpenAPI) - built with the web/API issue."""
