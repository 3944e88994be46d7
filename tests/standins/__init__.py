"""Stand-ins for the outside services the app talks to, one module each, speaking the
real protocol on 127.0.0.1: APNs over HTTP/2 (:mod:`apns`), the Google Wallet REST API
and its token endpoint (:mod:`google_wallet`), a Web Push service (:mod:`web_push`) and
an SMS provider's HTTP API (:mod:`sms_gateway`)."""
