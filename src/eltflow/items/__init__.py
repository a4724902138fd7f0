"""DynamoDB-compatible item tables kept in the state store.

``values`` (typed attribute values), ``parser``/``syntax``/``evaluate``/``keys`` (the pure
expression languages), ``storage`` (SQL, atomic conditional writes), ``service`` (the API)
with ``checks`` (request validation), ``client`` (boto3-shaped), ``config`` (``[tables.*]``).
"""
