"""Local Lambda: Python handlers ``module:function(event, context)`` named in eltflow.toml,
run in worker threads or a subprocess pool, with AWS's error payloads and timeouts."""
