"""The HTTP surfaces, as thin blueprints: parse the request, call one domain function, answer."""
