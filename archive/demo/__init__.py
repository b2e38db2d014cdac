"""The bundled sample news site that ``morgue demo`` serves on localhost and archives.

"The Riverside Ledger" is a small fictional newspaper: a front page, four articles (one in
Spanish), an article followed by the site's own "This page is not available" block, a 404 page
and an old URL that redirects. See ``archive.demo.server.DemoSite``.
"""
