"""Who is calling (authentication) and what they may do (authorization).

principal.py names the roles and permissions; authentication.py reads a request's credentials once,
in the ASGI pipeline, so the rate limiter can count per user; permissions.py is the dependency a
route declares to require a permission. chosen.py names the method this service was generated with
(copier.yml: auth), whose module is the only one that knows how a credential is checked.
"""
