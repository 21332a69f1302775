"""HTTP transport around the Flask app: a gunicorn worker that reads each request whole before a thread
serves it, and answers every error it raises itself in the API's JSON shape."""
