"""The class budget gateway: ``promptpaint gateway serve``.

It holds the provider keys and the class ledger, and speaks the providers' own wire APIs, so a
student's kernel (pp.Client, pp.Studio, the official SDKs) needs only its own gateway token. Every
cap is enforced here, on the server side: the worst case of each request is reserved from the
request body before it is forwarded, the call is booked from the provider's usage, and a call cut
off or abandoned stays booked at its reservation.

Modules: ``app`` (routes), ``auth`` (who is calling: tokens, JupyterHub), ``tokens`` (the token
table), ``rules`` (pricing, caps and rates), ``forward`` (the upstream call and its streaming),
``refusals`` (errors in the provider's shape), ``kernel`` (the kernel side), ``cli``.
Nothing here is imported by ``import promptpaint``; the server needs ``promptpaint[gateway]``.
"""
