"""Putting the list on publishers' pages: the embed script (`GET /embed.js`, `script`) and the
HTML fragment for server-side includes and edge caches (`GET /articles/<id>/related.html`,
`fragment`). Static-site data files are `service.related.static_export`."""
