"""The API's request and answer shapes (pydantic), one module per resource: ``common`` holds what they
share (timeframe, model id and time types, the strict ``Query`` and ``Answer`` bases, the error body);
each other module holds the shapes of one group of endpoints and is imported by that group's views.

The same classes validate requests, check every answer before it leaves, and generate
``/openapi.json`` (``openapi.ROUTES`` names them), so the document cannot drift from the service.
A class's name is its OpenAPI component name, which generated clients use: keep names unique."""
